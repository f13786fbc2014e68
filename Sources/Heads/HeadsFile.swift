// The heads file (`heads.h5`): trained heads plus everything needed to use them again — the
// provenance of the features they were trained on, each head's labels and the training record.
// Docs/file-format.md ("The heads file") is the reference for the stored schema.

import FeatureStore

/// The `format_version` this code writes and reads.
public let headsFileFormatVersion = 1

/// The root `kind` attribute that marks a heads file.
public let headsFileKind = "headstart-heads"

/// A heads file that cannot be written or read as asked, with what is wrong.
public struct HeadsFileError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The heads file.
  public var path: String
  /// What is wrong, phrased to follow the file name.
  public var problem: String

  public init(path: String, problem: String) {
    self.path = path
    self.problem = problem
  }

  public var description: String { "heads file \(path): \(problem)" }
}

/// How the heads were trained: the optimizer, the schedule and the per-epoch losses.
public struct TrainingRecord: Sendable, Equatable {
  /// Optimizer name, e.g. "adam".
  public var optimizer: String
  /// Optimizer settings by name, e.g. "learning_rate": 0.01.
  public var optimizerSettings: [String: Double]
  /// Epochs actually run (early stopping may end before the requested count).
  public var epochsRun: Int
  /// The epoch (1-based) whose parameters were kept.
  public var bestEpoch: Int
  public var batchSize: Int
  /// The seed of initialisation and shuffling.
  public var seed: UInt64
  /// Per-epoch curves by name, Keras-style: "loss", "val_loss", "<head>_loss", ...
  public var history: [String: [Float]]
  /// Which rows validated (`validationRowsRecord`): finetune refuses to validate on other rows.
  /// Empty in files written before it was recorded.
  public var validationRows = ""

  public init(
    optimizer: String, optimizerSettings: [String: Double], epochsRun: Int, bestEpoch: Int,
    batchSize: Int, seed: UInt64, history: [String: [Float]]
  ) {
    self.optimizer = optimizer
    self.optimizerSettings = optimizerSettings
    self.epochsRun = epochsRun
    self.bestEpoch = bestEpoch
    self.batchSize = batchSize
    self.seed = seed
    self.history = history
  }
}

/// Everything `fit-heads` writes and `finetune`/`predict` read.
public struct HeadsFile: Sendable, Equatable {
  /// The heads, in parameter order.
  public var specs: [HeadSpec]
  /// The label column each head was trained on, by head name.
  public var columns: [String: String]
  /// Class (softmax) or label (sigmoid) names by head name, one per output.
  public var classNames: [String: [String]]
  /// The label range a tanh head's [-1, 1] maps back onto, by head name.
  public var labelRanges: [String: ClosedRange<Float>]
  /// Decision thresholds of a sigmoid head, one per label, by head name.
  public var thresholds: [String: [Float]]
  /// What joins the labels of one cell of a multi-label sigmoid head's column (`;`, or `_` for
  /// folder names), by head name; absent for every other head. Files written before it was
  /// recorded read as `;`, fit-heads' default.
  public var separators: [String: String] = [:]
  /// The taps a head reads, by head name, for heads that read only some of `provenance.taps`
  /// (its `HeadSpec.inputColumns` are those taps' columns); absent for a head on every tap.
  public var headTaps: [String: [String]] = [:]
  /// Every parameter in `MultiHeadModel`'s layout.
  public var parameters: [Float]
  /// Feature width D; the sum of `provenance.tapWidths`.
  public var inputWidth: Int
  /// How the features were made, copied from the feature file.
  public var provenance: FeatureFileAttributes
  public var training: TrainingRecord
  /// The version of the tool that wrote the heads file (`provenance.toolVersion` is the version
  /// that made the features).
  public var toolVersion: String

  public init(
    specs: [HeadSpec], columns: [String: String], classNames: [String: [String]],
    labelRanges: [String: ClosedRange<Float>], thresholds: [String: [Float]], parameters: [Float],
    inputWidth: Int, provenance: FeatureFileAttributes, training: TrainingRecord, toolVersion: String
  ) {
    self.specs = specs
    self.columns = columns
    self.classNames = classNames
    self.labelRanges = labelRanges
    self.thresholds = thresholds
    self.parameters = parameters
    self.inputWidth = inputWidth
    self.provenance = provenance
    self.training = training
    self.toolVersion = toolVersion
  }

  /// The model these heads make.
  public var model: MultiHeadModel {
    MultiHeadModel(specs: specs, inputWidth: inputWidth, parameters: parameters)
  }

  /// The columns of the taps `headTaps` names for head `name`; nil for a head on every tap.
  func readColumns(of name: String) throws(TapLookupError) -> [Range<Int>]? {
    guard let taps = headTaps[name] else { return nil }
    return try provenance.columns(ofTaps: taps, dimension: inputWidth)
  }

  /// Whether a head's own taps are taps of the features and its input columns are theirs.
  private func tapsProblem(of spec: HeadSpec) -> String? {
    do {
      let columns = try readColumns(of: spec.name)
      guard columns == spec.inputColumns else {
        return
          "reads columns \(spec.inputColumns.map { "\($0)" } ?? "all") but its taps are \(headTaps[spec.name] ?? [])"
      }
      return nil
    } catch .unknown(let tap) {
      return "reads tap \(tap), which the features do not have (they have: \(provenance.taps.joined(separator: ", ")))"
    } catch {
      return "has taps \(headTaps[spec.name] ?? []) that do not fit the features' taps \(provenance.taps)"
    }
  }

  /// The first inconsistency between the fields, phrased to follow the file name, or nil.
  func problem() -> String? {
    if inputWidth != provenance.tapWidths.reduce(0, +) {
      return "input width \(inputWidth) is not the sum of the tap widths \(provenance.tapWidths)"
    }
    var names = Set<String>()
    for spec in specs {
      let head = "head \"\(spec.name)\""
      if spec.name.isEmpty || spec.name.contains("/") { return "\(head) needs a name without \"/\"" }
      if !names.insert(spec.name).inserted { return "\(head) appears twice" }
      // The output layer's group is named after the head and sits beside these datasets.
      if ["label_range", "thresholds", "class_vectors"].contains(spec.name) {
        return "\(head) has a reserved name; rename the head"
      }
      if spec.outputs < 1 || spec.hidden.contains(where: { $0 < 1 }) {
        return "\(head) has a layer without units"
      }
      if columns[spec.name] == nil { return "\(head) has no label column" }
      if let problem = tapsProblem(of: spec) { return "\(head) \(problem)" }
      switch spec.kind {
      case .tanh:
        guard let range = labelRanges[spec.name] else { return "\(head) (tanh) has no label range" }
        if !(range.lowerBound < range.upperBound) { return "\(head) has an empty label range \(range)" }
      case .softmax, .sigmoid:
        let count = classNames[spec.name]?.count ?? 0
        if count != spec.outputs {
          return "\(head) has \(spec.outputs) outputs but \(count) class names"
        }
      case .embedding:
        if spec.wheelClasses.count < 2 { return "\(head) (embedding) needs at least two wheel classes" }
        if let names = classNames[spec.name], names != spec.wheelClasses {
          return "\(head) has class names that differ from its wheel"
        }
      }
      if spec.kind == .sigmoid, thresholds[spec.name]?.count != spec.outputs {
        return "\(head) has \(spec.outputs) labels but \(thresholds[spec.name]?.count ?? 0) thresholds"
      }
    }
    let count = MultiHeadModel.parameterCount(specs: specs, inputWidth: inputWidth)
    if parameters.count != count {
      return "the heads need \(count) parameters but \(parameters.count) are given"
    }
    return nil
  }
}
