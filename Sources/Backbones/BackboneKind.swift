// The backbones Headstart runs, and the tap names (Keras layer names) each one offers.

/// A frozen ImageNet backbone, exactly as keras.applications defines it with
/// include_top=False.
public enum BackboneKind: String, CaseIterable, Sendable {
  case resnet50
  case vgg16
  case vgg19

  /// The layer Keras' `pooling='avg'` pools: the `last` preset.
  public var lastTap: String {
    switch self {
    case .resnet50: return "conv5_block3_out"
    case .vgg16, .vgg19: return "block5_pool"
    }
  }

  /// The `blocks` preset: every residual block output (ResNet50, 16 taps) or every VGG pool.
  public var blockTaps: [String] {
    architecture.layers.map(\.outputName).filter {
      switch self {
      case .resnet50: return $0.hasSuffix("_out")
      case .vgg16, .vgg19: return $0.hasSuffix("_pool")
      }
    }
  }

  /// Every valid tap name, in forward order: the Keras names of all layer outputs the
  /// forward pass materialises (ReLU outputs, shortcut BN outputs, block outputs, pools).
  public var allTapNames: [String] { architecture.layers.map(\.outputName) }

  /// The input sides accepted: from Keras' smallest for these models to 16,384 (one such image
  /// is 3 GB of floats; a damaged size read from a file must not overflow the arithmetic).
  public var inputSides: ClosedRange<Int> { 32...16384 }

  /// Throws unless `height` x `width` is an input size these models accept.
  public func checkInputSize(height: Int, width: Int) throws {
    guard inputSides.contains(height) && inputSides.contains(width) else {
      throw BackboneError(kind: self, reason: .inputSizeOutOfRange(height: height, width: width, sides: inputSides))
    }
  }

  /// The (height, width, channels) layer `tap` outputs for an input of `height` x `width`,
  /// by Keras' arithmetic.
  public func outputShape(ofTap tap: String, height: Int, width: Int) throws -> (
    height: Int, width: Int, channels: Int
  ) {
    try checkInputSize(height: height, width: width)
    let architecture = self.architecture
    guard let index = architecture.layers.firstIndex(where: { $0.outputName == tap }) else {
      throw BackboneError(kind: self, reason: .unknownTap(tap))
    }
    let planned = architecture.plan(height: height, width: width)[index]
    return (planned.outHeight, planned.outWidth, architecture.layers[index].outChannels)
  }

  /// Expands the presets `last` and `blocks` and checks every other name against
  /// `allTapNames`, keeping the order given.
  public func resolveTaps(_ taps: [String]) throws -> [String] {
    if taps.isEmpty { throw BackboneError(kind: self, reason: .noTaps) }
    let valid = Set(allTapNames)
    var resolved: [String] = []
    for tap in taps {
      switch tap {
      case "last": resolved.append(lastTap)
      case "blocks": resolved += blockTaps
      default:
        guard valid.contains(tap) else { throw BackboneError(kind: self, reason: .unknownTap(tap)) }
        resolved.append(tap)
      }
    }
    return resolved
  }
}
