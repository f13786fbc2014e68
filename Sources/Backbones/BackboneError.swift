// Errors a backbone reports, with messages a user can act on. (Weight files that do not fit
// the backbone are reported by `bindWeights` as `WeightBindingError`s.)

/// Why a backbone could not be built or run.
public struct BackboneError: Error, CustomStringConvertible, Equatable {
  public enum Reason: Sendable, Equatable {
    /// A tap name that is neither a preset nor a layer of this backbone.
    case unknownTap(String)
    /// No taps were requested.
    case noTaps
    /// The input is smaller than the backbone accepts.
    case inputSizeOutOfRange(height: Int, width: Int, sides: ClosedRange<Int>)
    /// The input buffer does not hold count x height x width x 3 values.
    case inputCountMismatch(expected: Int, actual: Int)
  }

  public var kind: BackboneKind
  public var reason: Reason

  public init(kind: BackboneKind, reason: Reason) {
    self.kind = kind
    self.reason = reason
  }

  public var description: String {
    switch reason {
    case .unknownTap(let name):
      let example = kind.blockTaps.first ?? kind.lastTap
      return "\(kind.rawValue) has no layer named '\(name)'; use a preset ('last', 'blocks') "
        + "or a Keras layer name such as '\(example)' or '\(kind.lastTap)'"
    case .noTaps:
      return "\(kind.rawValue): no taps requested; use 'last', 'blocks' or Keras layer names"
    case .inputSizeOutOfRange(let height, let width, let sides):
      return
        "\(kind.rawValue): input \(height)x\(width) is too \(min(height, width) < sides.lowerBound ? "small" : "large"); "
        + "height and width must be \(sides.lowerBound) to \(sides.upperBound)"
    case .inputCountMismatch(let expected, let actual):
      return
        "\(kind.rawValue): input holds \(actual) values, expected \(expected) (count x height x width x 3)"
    }
  }
}
