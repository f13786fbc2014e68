// Why a fine-tuning set-up cannot run, in words a user can act on.
import Backbones

/// A fine-tuning set-up that does not fit together.
public struct FinetuneError: Error, CustomStringConvertible, Sendable, Equatable {
  public enum Reason: Sendable, Equatable {
    /// The backbone is not one this block belongs to (ResNet50's conv5, VGG's block5).
    case wrongBackbone(BackboneKind, expected: [BackboneKind])
    /// A weight array of the trained block is missing or has another shape.
    case badWeights(layer: String, role: String, expected: [Int], found: [Int]?)
    /// The heads expect features of another width than the block computes.
    case headsWidth(expected: Int, found: Int)
    /// The block input does not have the trained block's channels, or the count is off.
    case blockInput(expected: Int, found: Int)
    /// An `--unfreeze` name this version cannot train.
    case unfreeze(name: String, problem: UnfreezeProblem)
    /// A head reads a tap inside the trained block (neither the frozen prefix nor its output).
    case tapInsideBlock(String, kind: BackboneKind)
    /// No head reads the trained block's output: fine-tuning would train nothing of it.
    case noBlockTap([String], kind: BackboneKind)
    /// The fixed features (taps before the block) of a batch have another size.
    case fixedFeatures(expected: Int, found: Int)
  }

  /// Why an `--unfreeze` name trains nothing.
  public enum UnfreezeProblem: Sendable, Equatable {
    /// No names at all.
    case empty
    /// No layer or block of the backbone has this name; `examples` lists accepted ones.
    case noLayer(BackboneKind, examples: String)
    /// Every layer it names comes before the last block, which is all this version trains.
    case beforeLastBlock(BackboneKind, examples: String)
    /// It names a layer of the last block that has no weights (an activation, add or pool).
    case noWeights
  }
  public var reason: Reason

  public init(_ reason: Reason) { self.reason = reason }

  public var description: String {
    switch reason {
    case .wrongBackbone(let kind, let expected):
      return
        "the backbone is \(kind.rawValue), but this last block belongs to "
        + expected.map(\.rawValue).joined(separator: " or ")
    case .badWeights(let layer, let role, let expected, let found):
      let got = found.map { "shape \($0)" } ?? "nothing"
      return "weights: \(layer)/\(role) should have shape \(expected), the weights have \(got)"
    case .headsWidth(let expected, let found):
      return
        "the heads take \(found) features but the fine-tuned block and the taps before it give \(expected)"
    case .blockInput(let expected, let found):
      return "the block input has \(found) values where \(expected) were expected"
    case .tapInsideBlock(let tap, let kind):
      return
        "the heads read tap \(tap), inside \(kind.rawValue)'s trained block (after \(LastBlock.inputLayer(kind)), "
        + "before \(LastBlock.outputLayer(kind))): fine-tuning feeds heads the block's output or taps up to its input"
    case .noBlockTap(let taps, let kind):
      return
        "the heads read taps \(taps.joined(separator: ",")), none of them \(LastBlock.outputLayer(kind)): "
        + "fine-tuning \(kind.rawValue)'s last block needs a head on its output (fit-heads --taps or a head's taps)"
    case .fixedFeatures(let expected, let found):
      return "the fixed features have \(found) values where \(expected) were expected"
    case .unfreeze(let name, .empty):
      return "--unfreeze \(name): names no layer (give 'last' or Keras layer or block names, comma-separated)"
    case .unfreeze(let name, .noLayer(let kind, let examples)):
      return "--unfreeze \(name): names no layer or block of \(kind.rawValue) (accepted: \(examples))"
    case .unfreeze(let name, .beforeLastBlock(let kind, let examples)):
      return
        "--unfreeze \(name): comes before \(kind.rawValue)'s last block; this version trains the last block "
        + "only, everything before it stays frozen (accepted: \(examples))"
    case .unfreeze(let name, .noWeights):
      return "--unfreeze \(name): that layer has no weights to train (name a convolution, batch norm or block)"
    }
  }
}
