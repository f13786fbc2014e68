// VGG16's and VGG19's last block (block5) as trainable parameters, mapped to and from Keras
// layer names, with its forward and backward passes.
//
// keras.applications VGG16 / VGG19 end with block5: 3 (VGG16) or 4 (VGG19) convolutions
// `block5_conv{i}`, 3x3 'same', 512 -> 512 channels, with bias and ReLU, then `block5_pool`,
// MaxPooling2D 2x2/2 'valid' (odd sizes floor). The block's input is block4_pool
// (N, H, W, 512). Activations NHWC, kernels HWIO as Keras stores them. No batch norm.
import Backbones
import Engine

/// The weights of a VGG's block5.
public struct VGGLastBlock: Sendable {
  /// The layer whose output feeds the block: everything up to it stays frozen.
  public static let inputLayer = "block4_pool"
  /// The layer the block ends with (the features' tap).
  public static let outputLayer = "block5_pool"
  public static let channels = 512

  public let kind: BackboneKind
  /// block5_conv1 ... : (3, 3, 512, 512) HWIO each.
  public var kernels: [[Float]]
  /// block5_conv1 ... : (512) each.
  public var biases: [[Float]]

  /// The convolutions of block5 for `kind`: 3 for VGG16, 4 for VGG19.
  public static func layerNames(_ kind: BackboneKind) throws -> [String] {
    switch kind {
    case .vgg16: return (1...3).map { "block5_conv\($0)" }
    case .vgg19: return (1...4).map { "block5_conv\($0)" }
    case .resnet50: throw FinetuneError(.wrongBackbone(kind, expected: [.vgg16, .vgg19]))
    }
  }

  /// The trainable variables Keras lists for the block, `layer/role`.
  public static func trainableVariables(_ kind: BackboneKind) throws -> [String] {
    try layerNames(kind).flatMap { ["\($0)/kernel", "\($0)/bias"] }
  }

  /// Reads block5 of `kind` from Keras weights (by layer name, shapes checked).
  public init(kind: BackboneKind, weights: KerasWeights) throws {
    self.kind = kind
    var kernels: [[Float]] = []
    var biases: [[Float]] = []
    let c = Self.channels
    for layer in try Self.layerNames(kind) {
      for (role, shape) in [(WeightKind.kernel, [3, 3, c, c]), (.bias, [c])] {
        let stored = weights.layers[layer]?[role]
        guard let stored, stored.shape == shape else {
          throw FinetuneError(.badWeights(layer: layer, role: role.rawValue, expected: shape, found: stored?.shape))
        }
        if role == .kernel { kernels.append(stored.values) } else { biases.append(stored.values) }
      }
    }
    self.kernels = kernels
    self.biases = biases
  }

  /// Writes the block's kernels and biases into `weights` under their Keras names.
  public func write(into weights: inout KerasWeights) {
    let c = Self.channels
    for (i, layer) in ((try? Self.layerNames(kind)) ?? []).enumerated() {
      weights.layers[layer] = [
        .kernel: WeightArray(shape: [3, 3, c, c], values: kernels[i]),
        .bias: WeightArray(shape: [c], values: biases[i]),
      ]
    }
  }

  /// One block5 convolution on a batch of `batch` inputs of height x width.
  static func convShape(batch: Int, height: Int, width: Int) -> ConvShape {
    let pad = Padding2D.same(height: height, width: width, window: (3, 3), stride: (1, 1))
    return ConvShape(
      batch: batch, height: height, width: width, inChannels: channels, outChannels: channels,
      window: Window2D(height: 3, width: 3, strideHeight: 1, strideWidth: 1, padding: pad))
  }

  /// block5_pool: 2x2/2 'valid'.
  static let pool = Window2D(height: 2, width: 2, strideHeight: 2, strideWidth: 2)

  /// The block input block4_pool (N, H/16, W/16, 512) NHWC of `count` images (N, H, W, 3),
  /// 'caffe'-preprocessed BGR, through `backbone` (a VGG16 or VGG19).
  public static func blockInput(
    _ backbone: Backbone, images: UnsafeBufferPointer<Float>, count: Int, height: Int, width: Int
  ) throws -> [Float] {
    _ = try layerNames(backbone.kind)
    return try backbone.activations(images, count: count, height: height, width: width, layer: inputLayer)
  }

  /// The (height, width) of the block input for images of height x width, by Keras' arithmetic.
  public static func blockInputSize(_ kind: BackboneKind, height: Int, width: Int) throws -> (
    height: Int, width: Int
  ) {
    let shape = try kind.outputShape(ofTap: inputLayer, height: height, width: width)
    return (shape.height, shape.width)
  }
}
