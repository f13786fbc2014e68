// A backbone as data: its layers in forward order, each reading and writing one of a few
// activation buffers ("slots"). ResNet50 and VGG are built from their tables into this form
// (ResNet50.swift, VGG.swift); the fast forward pass, the naive reference, parameter specs
// and tap names all read it.
//
// Activations are NHWC; kernels HWIO (Keras' layout).
import Engine

/// How a convolution or pool pads its input.
enum PaddingRule: Equatable {
  /// No padding (Keras 'valid').
  case valid
  /// Keras 'same': output ceil(size / stride), extra padding at the bottom/right.
  case same
  /// `ZeroPadding2D(p)` before a 'valid' layer: p zeros on every side.
  case zeros(Int)

  func padding(height: Int, width: Int, window: Int, stride: Int) -> Padding2D {
    switch self {
    case .valid: return .zero
    case .zeros(let p): return Padding2D(all: p)
    case .same: return .same(height: height, width: width, window: (window, window), stride: (stride, stride))
    }
  }
}

/// A Conv2D (with bias), optionally followed by a folded BatchNormalization, a residual add
/// and a ReLU.
struct ConvLayer: Equatable {
  var name: String
  var batchNorm: String?
  var kernelSize: Int
  var stride: Int
  var padding: PaddingRule
  var inChannels: Int
  var outChannels: Int
  var relu: Bool
  /// The slot holding the shortcut added before the ReLU (a ResNet block's `_add`).
  var residual: Int?
}

/// A MaxPooling2D, optionally after a ZeroPadding2D.
struct PoolLayer: Equatable {
  var size: Int
  var stride: Int
  var padding: PaddingRule
}

/// One materialised layer output.
struct Layer: Equatable {
  enum Operation: Equatable {
    case conv(ConvLayer)
    case maxPool(PoolLayer)
  }
  var operation: Operation
  var input: Int
  var output: Int
  /// The Keras name of the output this layer materialises (a valid tap).
  var outputName: String
  var outChannels: Int
}

/// A backbone's layers in forward order; slot 0 holds the input image batch.
struct Architecture {
  var layers: [Layer]
  var slotCount: Int

  /// The conv layers, in model order.
  var convLayers: [ConvLayer] {
    layers.compactMap { if case .conv(let c) = $0.operation { return c } else { return nil } }
  }
}

/// Spatial sizes of one layer for a given input size.
struct PlannedLayer {
  var inHeight, inWidth, inChannels: Int
  var outHeight, outWidth: Int
  var window: Int
  var stride: Int
  var padding: Padding2D
}

extension Architecture {
  /// Works out every layer's input and output size for an input of height x width x 3,
  /// following Keras' arithmetic ('valid' floors, 'same' is ceil(size / stride)).
  func plan(height: Int, width: Int) -> [PlannedLayer] {
    var sizes = [(Int, Int, Int)](repeating: (0, 0, 0), count: slotCount)
    sizes[0] = (height, width, 3)
    var planned: [PlannedLayer] = []
    for layer in layers {
      let (h, w, c) = sizes[layer.input]
      let (k, s, rule): (Int, Int, PaddingRule)
      switch layer.operation {
      case .conv(let conv): (k, s, rule) = (conv.kernelSize, conv.stride, conv.padding)
      case .maxPool(let pool): (k, s, rule) = (pool.size, pool.stride, pool.padding)
      }
      let pad = rule.padding(height: h, width: w, window: k, stride: s)
      let ph = h + pad.top + pad.bottom
      let pw = w + pad.left + pad.right
      let oh = ph < k ? 0 : (ph - k) / s + 1
      let ow = pw < k ? 0 : (pw - k) / s + 1
      planned.append(
        PlannedLayer(
          inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, window: k, stride: s,
          padding: pad))
      sizes[layer.output] = (oh, ow, layer.outChannels)
    }
    return planned
  }
}

extension BackboneKind {
  /// The layer graph of this backbone.
  var architecture: Architecture {
    switch self {
    case .resnet50: return ResNet50Table.architecture
    case .vgg16: return VGGTable.vgg16Architecture
    case .vgg19: return VGGTable.vgg19Architecture
    }
  }
}
