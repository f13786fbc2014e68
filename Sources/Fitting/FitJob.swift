// One `fit-heads` run: feature file in, trained heads and their metrics out.
//
//   1. read the feature file (narrowed to `--taps`, with a `--labels` CSV joined on the path)
//      and resolve each requested head against its label columns
//      (a head kind that does not fit its column is a usage error, exit 2);
//   2. split the rows: a `split` column (train/val/test) or a 0/1 `in_train` column if present,
//      otherwise `--val-split` of the rows drawn with the seed;
//   3. train all heads together (one model, one optimiser), shuffled mini-batches, validation
//      loss every epoch, early stopping with patience, keeping the best epoch;
//   4. metrics on validation (and test) with the best weights.

import Engine
import FeatureStore
import Foundation
import HDF5
import Heads
import Support

/// The options of one `fit-heads` run.
public struct FitOptions: Sendable {
  public var features: String
  public var heads: [HeadRequest]
  public var epochs = TrainingDefaults.epochs
  public var batchSize = TrainingDefaults.batchSize
  public var optimizer = "adam"
  public var learningRate: Double?
  public var seed: UInt64 = 0
  public var valSplit = 0.1
  public var patience = 5
  /// A CSV of labels joined on the path (LabelsJoin.swift): adds columns or replaces same-named ones.
  public var labels: String?
  /// The stored taps to train on, by name (TapSelection.swift); nil: all of them.
  public var taps: [String]?
  /// Record every head's validation metrics after each epoch (for `--report`); costs one
  /// forward pass over the validation rows per epoch.
  public var recordEpochMetrics = false
  /// Keras' decoupled weight decay (`weight_decay` of every Keras 3 optimiser); nil for none.
  public var weightDecay: Double?
  /// Sigmoid heads' decision thresholds given by the user (`--threshold NAME=VALUE`), by head
  /// name, instead of one tuned on the validation rows; "" applies to every sigmoid head.
  public var thresholds: [String: Double] = [:]
  /// Bytes the feature matrix may take in memory; a larger one is read from the file a chunk of
  /// rows at a time (FeatureSource.swift). nil: half the physical memory.
  public var maxMemory: Int?

  public init(features: String, heads: [HeadRequest]) {
    self.features = features
    self.heads = heads
  }
}

/// One head resolved against the feature file.
struct ResolvedHead {
  var spec: HeadSpec
  var column: String
  var classNames: [String]
  /// tanh: the label range mapped onto [-1, 1].
  var range: (low: Double, high: Double)?
  /// Labels of every row in the head's raw form: class index (softmax, sigmoid) or value (tanh).
  var classLabels: [Int32]
  var valueLabels: [Float]
  /// Multi-label sigmoid heads: 0/1 targets (N, outputs), -1 where the row has no label set;
  /// empty for every other head (ResolveSigmoid.swift).
  var multiLabels: [Float] = []
  /// Multi-label sigmoid heads: what joins a row's labels in the column's cells.
  var separator: String?
}

/// The outcome of a run.
public struct FitResult: Sendable {
  public var model: MultiHeadModel
  public var heads: [(name: String, report: HeadReport)]
  public var epochsRun: Int
  public var bestEpoch: Int
  public var history: [(train: HeadLosses, val: HeadLosses?)]
  public var rows: (train: Int, val: Int, test: Int)
  /// Everything `finetune` and `predict` need, ready to write with `headsFile.write(to:)`.
  public var headsFile: HeadsFile
  /// With `recordEpochMetrics`: per epoch, each head's validation metrics (empty otherwise).
  public var epochMetrics: [[HeadMetrics]] = []
  /// The kept model's outputs on the validation and test rows (nil for an empty split).
  public var valOutputs: SplitOutputs?
  public var testOutputs: SplitOutputs?
  /// What the report needs from the run besides the above (see ReportData.swift).
  var reportContext: ReportContext?

  /// `{"heads": {NAME: {"kind": ..., "val": {...}, "test": {...}}}}`, keys sorted.
  public func metricsJSON() throws -> Data {
    struct Root: Encodable { var heads: [String: HeadReport] }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(Root(heads: Dictionary(uniqueKeysWithValues: heads.map { ($0.name, $0.report) })))
  }
}

/// Runs one `fit-heads` job. `log` receives progress lines.
public func runFit(_ options: FitOptions, log: (String) -> Void = { _ in }) throws -> FitResult {
  do {
    return try fit(options, log: log)
  } catch let error as HDF5ChecksumError {
    // Met when the rows are read or mapped at the start, or, streamed, while training.
    throw FitError.usage("--features \(options.features): \(error.problem)")
  }
}

private func fit(_ options: FitOptions, log: (String) -> Void) throws -> FitResult {
  guard !options.heads.isEmpty else { throw FitError.usage("no heads: give --head NAME=KIND:COLUMN or --heads FILE") }
  guard options.epochs >= 1, options.batchSize >= 1, options.patience >= 0 else {
    throw FitError.usage("--epochs and --batch-size must be at least 1, --patience at least 0")
  }
  guard options.valSplit >= 0, options.valSplit < 1 else { throw FitError.usage("--val-split must be in [0, 1)") }
  if let weightDecay = options.weightDecay, !(weightDecay >= 0) {
    throw FitError.usage("--weight-decay must be at least 0")
  }
  if let maxMemory = options.maxMemory, maxMemory < 1 { throw FitError.usage("--max-memory must be positive") }
  for request in options.heads { try request.validate() }
  try checkThresholds(options)
  var file: FeatureFile
  let reader: FeatureRowReader
  let budget = options.maxMemory ?? defaultMaxMemory()
  let inMemory: Bool
  var mapped: MappedFeatureRows?
  // The model's input: --taps, else the taps the heads name when every head names its own
  // (TapSelection.swift), else every stored tap.
  var inputTaps = options.taps
  do {
    // The matrix is read whole when it fits in three quarters of the budget (the rest is for
    // labels, targets, the model and its workspace), else streamed in chunks of a quarter of it.
    // Whole, its rows are used in place in the mapped file when the file allows it and every
    // column is used (no --taps).
    reader = try FeatureRowReader(path: options.features)
    file = try FeatureFile.read(path: options.features, features: false)
    inputTaps = options.taps ?? tapsOfEveryHead(options.heads, stored: file.attributes.taps)
    inMemory = reader.rowCount * max(1, reader.dimension) * MemoryLayout<Float>.size <= budget / 4 * 3
    if inMemory && inputTaps == nil {
      mapped = try MappedFeatureRows(path: options.features, threads: computeThreads())
    }
    if inMemory && mapped == nil {
      // Read straight into an uninitialised array: zero-filling 10^8 floats first costs as much
      // as a third of the read.
      let count = reader.rowCount * reader.dimension
      file.features = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        try reader.read(rows: 0..<reader.rowCount, into: buffer)
        initialized = count
      }
      file.unreadRows = nil
    }
  } catch  where !(error is HDF5ChecksumError) {
    throw FitError.usage("--features \(options.features): \(error)")
  }
  guard file.complete else {
    throw FitError.usage("--features \(options.features): the file is incomplete (its extraction did not finish)")
  }
  for request in options.heads {
    // Against every stored tap first, so an unknown tap is named among all of them.
    if let taps = request.taps {
      _ = try lookUpTaps(taps, attributes: file.attributes, dimension: file.dimension, option: "head '\(request.name)'")
      if let kept = options.taps, let tap = taps.first(where: { !kept.contains($0) }) {
        throw FitError.usage(
          "head '\(request.name)': tap '\(tap)' is not among --taps \(kept.joined(separator: ",")); add it there")
      }
    }
  }
  var columns: [Range<Int>]?
  if let taps = inputTaps {
    let chosen = try tapColumns(taps, attributes: file.attributes, dimension: file.dimension)
    if inMemory { file.features = gatherColumns(chosen.columns, of: file.features, width: file.dimension) }
    columns = chosen.columns
    file.attributes = chosen.attributes
    file.dimension = chosen.columns.reduce(0) { $0 + $1.count }
  }
  let source: FeatureSource
  if let mapped {
    source = FeatureSource(mapped: mapped)
  } else if inMemory {
    source = FeatureSource(matrix: file.features, width: file.dimension)
  } else {
    let rowBytes = max(1, reader.dimension) * MemoryLayout<Float>.size
    source = FeatureSource(reader: reader, chunkRows: max(options.batchSize, budget / 4 / rowBytes), columns: columns)
    log("streaming features: \(reader.rowCount) x \(reader.dimension) do not fit --max-memory \(budget) bytes")
  }
  if let csv = options.labels {
    let (labels, summary) = try joinLabels(file.labels, paths: file.paths, csvPath: csv)
    file.labels = labels
    summary.logLines(csvPath: csv).forEach(log)
  }
  // The one split rule (Heads/RowSplit.swift), which finetune applies too.
  let strata = stratificationColumn(heads: options.heads.map { ($0.kind, $0.column) }, labels: file.labels)
  let split = splitRows(
    Array(0..<file.rowCount), labels: file.labels, valSplit: options.valSplit, seed: options.seed, strata: strata)
  guard !split.train.isEmpty else { throw FitError.usage("no training rows") }
  var (heads, targets, trainingTargets) = try resolveHeads(options.heads, labels: file.labels, trainRows: split.train)
  var headTaps: [String: [String]] = [:]
  for (h, request) in options.heads.enumerated() {
    guard let taps = request.taps else { continue }
    let read = try lookUpTaps(
      taps, attributes: file.attributes, dimension: file.dimension, option: "head '\(request.name)'")
    // A head on every input tap, in order, is an ordinary head.
    if Array(read.joined()) == Array(0..<file.dimension) { continue }
    heads[h].spec.inputColumns = read
    headTaps[request.name] = taps
  }
  let specs = heads.map(\.spec)
  let d = file.dimension

  var model = MultiHeadModel(specs: specs, inputWidth: d, seed: options.seed)
  var epochMetrics: [[HeadMetrics]] = []
  let (history, bestEpoch) = try trainWithEarlyStopping(
    &model, source: source, trainRows: split.train, valRows: split.val, trainTargets: trainingTargets,
    valTargets: targets, options: options, log: log
  ) { _, model in
    guard options.recordEpochMetrics, !split.val.isEmpty else { return }
    let outputs = try predict(model, source: source, rows: split.val)
    epochMetrics.append(validationMetrics(heads: heads, outputs: outputs, rows: split.val))
  }

  var reports: [(name: String, report: HeadReport)] = []
  let valOutputs = split.val.isEmpty ? nil : try predict(model, source: source, rows: split.val)
  let testOutputs = split.test.isEmpty ? nil : try predict(model, source: source, rows: split.test)
  for (h, head) in heads.enumerated() {
    var report = HeadReport(kind: head.spec.kind.rawValue)
    let fixed = fixedThresholds(head, options: options)
    var thresholds = fixed
    if let valOutputs {
      let metrics = metricsOf(head, outputs: valOutputs[h], rows: split.val, thresholds: fixed)
      if case .sigmoid(let m) = metrics { thresholds = m.labels.map(\.threshold) }
      report.val = metrics
    }
    if let testOutputs {
      report.test = metricsOf(head, outputs: testOutputs[h], rows: split.test, thresholds: thresholds)
    }
    reports.append((head.spec.name, report))
  }
  var thresholds: [String: [Float]] = [:]
  for (name, report) in reports {
    if case .sigmoid(let m)? = report.val { thresholds[name] = m.labels.map { Float($0.threshold) } }
  }
  // Without validation rows there is nothing to tune on: every label decides at the given
  // threshold, or at 0.5.
  for head in heads where head.spec.kind == .sigmoid && thresholds[head.spec.name] == nil {
    let given = fixedThresholds(head, options: options)?.map(Float.init)
    thresholds[head.spec.name] = given ?? [Float](repeating: 0.5, count: head.spec.outputs)
  }
  let kind = try optimizerKind(options.optimizer, learningRate: options.learningRate)
  var settings = kind.settings
  if let weightDecay = options.weightDecay { settings["weight_decay"] = weightDecay }
  var headsFile = HeadsFile(
    specs: specs, columns: Dictionary(uniqueKeysWithValues: heads.map { ($0.spec.name, $0.column) }),
    classNames: Dictionary(
      uniqueKeysWithValues: heads.filter { $0.spec.kind != .tanh }.map { ($0.spec.name, $0.outputNames) }),
    labelRanges: Dictionary(
      uniqueKeysWithValues: heads.compactMap { head in
        head.range.map { (head.spec.name, Float($0.low)...Float($0.high)) }
      }),
    thresholds: thresholds, parameters: model.parameters, inputWidth: d, provenance: file.attributes,
    training: TrainingRecord(
      optimizer: options.optimizer, optimizerSettings: settings, epochsRun: history.count,
      bestEpoch: bestEpoch, batchSize: options.batchSize, seed: options.seed,
      history: historyColumns(history, heads: specs.map(\.name))),
    toolVersion: headstartVersion)
  for head in heads { headsFile.separators[head.spec.name] = head.separator }
  headsFile.headTaps = headTaps
  headsFile.training.validationRows = validationRowsRecord(paths: split.val.map { file.paths[$0] })
  var result = FitResult(
    model: model, heads: reports, epochsRun: history.count, bestEpoch: bestEpoch, history: history,
    rows: (split.train.count, split.val.count, split.test.count), headsFile: headsFile)
  result.epochMetrics = epochMetrics
  result.valOutputs = valOutputs.map { SplitOutputs(rows: split.val, outputs: $0) }
  result.testOutputs = testOutputs.map { SplitOutputs(rows: split.test, outputs: $0) }
  result.reportContext = ReportContext(heads: heads, paths: file.paths, attributes: file.attributes)
  return result
}

/// `--threshold NAME=VALUE` or `--threshold VALUE` (every sigmoid head): the head name ("" for
/// every head) and the value.
public func parseThreshold(_ text: String) throws -> (head: String, value: Double) {
  let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
  let (head, number) = parts.count == 2 ? (parts[0], parts[1]) : ("", parts[0])
  guard let value = Double(number), parts.count == 1 || !head.isEmpty else {
    throw FitError.usage("--threshold \(text): expected NAME=VALUE or VALUE, e.g. --threshold cat=0.85")
  }
  return (head, value)
}

/// Thresholds lie strictly between 0 and 1 and name sigmoid heads of the run.
private func checkThresholds(_ options: FitOptions) throws {
  for (name, value) in options.thresholds.sorted(by: { $0.key < $1.key }) {
    let option = name.isEmpty ? "--threshold \(value)" : "--threshold \(name)=\(value)"
    guard value > 0, value < 1 else { throw FitError.usage("\(option): a threshold lies between 0 and 1") }
    guard name.isEmpty || options.heads.contains(where: { $0.name == name && $0.kind == "sigmoid" }) else {
      throw FitError.usage("\(option): no sigmoid head '\(name)' (thresholds apply to sigmoid heads)")
    }
  }
}

/// The thresholds given for a sigmoid head, one per label; nil to tune them on validation.
func fixedThresholds(_ head: ResolvedHead, options: FitOptions) -> [Double]? {
  guard head.spec.kind == .sigmoid, let value = options.thresholds[head.spec.name] ?? options.thresholds[""] else {
    return nil
  }
  return [Double](repeating: value, count: head.spec.outputs)
}
