// ResNet50's last stage (conv5) as trainable parameters, mapped to and from Keras layer names.
//
// keras.applications ResNet50 ends with three bottleneck blocks of 512 filters (2048 out):
//   conv5_block1   conv shortcut (conv5_block1_0_conv, _0_bn), stride 2, input 1024 channels
//   conv5_block2   identity shortcut
//   conv5_block3   identity shortcut; its `_out` is the `last` tap (what pooling='avg' pools)
// each with units _1 (1x1), _2 (3x3 'same'), _3 (1x1), every convolution with a bias and a
// BatchNormalization(epsilon=1.001e-5). Unit 0 is the shortcut. The stage's input is
// conv4_block6_out (N, H, W, 1024); kernels HWIO as Keras stores them.
import Backbones
import Engine

/// The weights of ResNet50's conv5 stage, as the engine's residual-block parameters.
public struct ResNet50LastStage: Sendable {
  /// The layer whose output feeds the stage: everything up to it stays frozen.
  public static let inputLayer = "conv4_block6_out"
  /// The layer the stage ends with (the features' tap).
  public static let outputLayer = "conv5_block3_out"
  /// Keras block names, in order.
  public static let blockNames = ["conv5_block1", "conv5_block2", "conv5_block3"]
  public static let inChannels = 1024
  public static let filters = 512
  public static var outChannels: Int { 4 * filters }
  /// Keras' epsilon for every ResNet50 batch norm.
  static let epsilon = 1.001e-5

  /// conv5_block1, conv5_block2, conv5_block3.
  public var blocks: [ResidualBlockParameters]

  /// Every Keras layer of the stage that holds weights, in model order (conv then its BN;
  /// block 1's shortcut unit 0 first, as Keras creates it).
  public static var layerNames: [String] {
    blockNames.enumerated().flatMap { index, block in
      (index == 0 ? [0, 1, 2, 3] : [1, 2, 3]).flatMap { ["\(block)_\($0)_conv", "\(block)_\($0)_bn"] }
    }
  }

  /// The trainable variables Keras lists for the stage, `layer/role`: every kernel and bias,
  /// and gamma and beta of every batch norm unless `batchNormAffine` is false (Keras: the BN
  /// layers set to trainable=False). Moving means and variances are never trainable variables.
  public static func trainableVariables(batchNormAffine: Bool = true) -> [String] {
    layerNames.flatMap { layer -> [String] in
      if layer.hasSuffix("_conv") { return ["\(layer)/kernel", "\(layer)/bias"] }
      return batchNormAffine ? ["\(layer)/gamma", "\(layer)/beta"] : []
    }
  }

  /// Reads the stage from Keras weights (by layer name, shapes checked).
  public init(weights: KerasWeights) throws {
    var blocks: [ResidualBlockParameters] = []
    for (index, block) in Self.blockNames.enumerated() {
      let input = index == 0 ? Self.inChannels : Self.outChannels
      func unit(_ u: Int) throws -> ConvBatchNormParameters {
        let (k, cin, cout) =
          switch u {
          case 0: (1, input, Self.outChannels)
          case 1: (1, input, Self.filters)
          case 2: (3, Self.filters, Self.filters)
          default: (1, Self.filters, Self.outChannels)
          }
        let conv = "\(block)_\(u)_conv"
        let bn = "\(block)_\(u)_bn"
        func array(_ layer: String, _ role: WeightKind, _ shape: [Int]) throws -> [Float] {
          let stored = weights.layers[layer]?[role]
          guard let stored, stored.shape == shape else {
            throw FinetuneError(
              .badWeights(layer: layer, role: role.rawValue, expected: shape, found: stored?.shape))
          }
          return stored.values
        }
        let batchNorm = BatchNormParameters(
          gamma: try array(bn, .gamma, [cout]), beta: try array(bn, .beta, [cout]),
          movingMean: try array(bn, .movingMean, [cout]), movingVariance: try array(bn, .movingVariance, [cout]),
          epsilon: Self.epsilon)
        return ConvBatchNormParameters(
          kernel: try array(conv, .kernel, [k, k, cin, cout]), bias: try array(conv, .bias, [cout]),
          batchNorm: batchNorm)
      }
      blocks.append(
        ResidualBlockParameters(
          conv1: try unit(1), conv2: try unit(2), conv3: try unit(3), shortcut: index == 0 ? try unit(0) : nil))
    }
    self.blocks = blocks
  }

  /// Writes the stage's arrays (kernels, biases, gamma, beta, moving statistics) into
  /// `weights` under their Keras names, replacing what was there.
  public func write(into weights: inout KerasWeights) {
    for (block, parameters) in zip(Self.blockNames, blocks) {
      let units: [(Int, ConvBatchNormParameters?)] = [
        (0, parameters.shortcut), (1, parameters.conv1), (2, parameters.conv2), (3, parameters.conv3),
      ]
      for case (let u, let unit?) in units {
        let cout = unit.bias.count
        let k = unit.kernel.count / cout
        let cin = u == 2 ? k / 9 : k
        let side = u == 2 ? 3 : 1
        weights.layers["\(block)_\(u)_conv"] = [
          .kernel: WeightArray(shape: [side, side, cin, cout], values: unit.kernel),
          .bias: WeightArray(shape: [cout], values: unit.bias),
        ]
        let bn = unit.batchNorm
        weights.layers["\(block)_\(u)_bn"] = [
          .gamma: WeightArray(shape: [cout], values: bn.gamma), .beta: WeightArray(shape: [cout], values: bn.beta),
          .movingMean: WeightArray(shape: [cout], values: bn.movingMean),
          .movingVariance: WeightArray(shape: [cout], values: bn.movingVariance),
        ]
      }
    }
  }

  /// The three block shapes for a batch of `batch` stage inputs of height x width.
  public static func shapes(batch: Int, height: Int, width: Int) -> [ResidualBlockShape] {
    let first = ResidualBlockShape(
      batch: batch, height: height, width: width, inChannels: inChannels, filters: filters, stride: 2,
      convolutionShortcut: true)
    let (h, w) = (first.conv1.outputHeight, first.conv1.outputWidth)
    let identity = ResidualBlockShape(
      batch: batch, height: h, width: w, inChannels: outChannels, filters: filters, stride: 1,
      convolutionShortcut: false)
    return [first, identity, identity]
  }
}
