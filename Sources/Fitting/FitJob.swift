// One `fit-heads` run: feature file in, trained heads and their metrics out.
//
//   1. read the feature file and resolve each requested head against its label columns
//      (a head kind that does not fit its column is a usage error, exit 2);
//   2. split the rows: a `split` column (train/val/test) or a 0/1 `in_train` column if present,
//      otherwise `--val-split` of the rows drawn with the seed;
//   3. train all heads together (one model, one optimiser), shuffled mini-batches, validation
//      loss every epoch, early stopping with patience, keeping the best epoch;
//   4. metrics on validation (and test) with the best weights.

import FeatureStore
import Foundation
import Heads

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
}

/// Metrics of one head on one split, in the kind's own form.
public enum HeadMetrics: Encodable, Sendable {
  case classification(ClassificationMetrics)
  case sigmoid(SigmoidMetrics)
  case regression(RegressionMetrics)
  case embedding(EmbeddingMetrics)

  public func encode(to encoder: Encoder) throws {
    switch self {
    case .embedding(let metrics): try metrics.encode(to: encoder)
    case .classification(let metrics): try metrics.encode(to: encoder)
    case .sigmoid(let metrics): try metrics.encode(to: encoder)
    case .regression(let metrics): try metrics.encode(to: encoder)
    }
  }

  /// The one number a person looks at first.
  public var headline: String {
    switch self {
    case .classification(let m):
      return String(
        format: "accuracy %.3f (95%% CI %.3f-%.3f), macro F1 %.3f", m.accuracy, m.accuracyCI95[0],
        m.accuracyCI95[1], m.macroF1)
    case .sigmoid(let m):
      return m.labels.map { label in
        String(
          format: "accuracy %.3f at 0.5, %.3f at %.3f; AUC %@", label.accuracyAtHalf, label.accuracyAtThreshold,
          label.threshold, label.rocAUC.map { String(format: "%.3f", $0) } ?? "n/a")
      }.joined(separator: "; ")
    case .embedding(let m):
      return String(format: "accuracy %.3f, mean wheel distance %.3f", m.accuracy, m.meanWheelDistance)
    case .regression(let m):
      return String(
        format: "MAE %.3f, RMSE %.3f, r %@", m.mae, m.rmse, m.pearsonR.map { String(format: "%.3f", $0) } ?? "n/a")
    }
  }
}

/// What one head achieved.
public struct HeadReport: Encodable, Sendable {
  public var kind: String
  public var val: HeadMetrics?
  public var test: HeadMetrics?
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
  guard !options.heads.isEmpty else { throw FitError.usage("no heads: give --head NAME=KIND:COLUMN or --heads FILE") }
  guard options.epochs >= 1, options.batchSize >= 1, options.patience >= 0 else {
    throw FitError.usage("--epochs and --batch-size must be at least 1, --patience at least 0")
  }
  guard options.valSplit >= 0, options.valSplit < 1 else { throw FitError.usage("--val-split must be in [0, 1)") }
  let file: FeatureFile
  do {
    file = try FeatureFile.read(path: options.features)
  } catch {
    throw FitError.usage("--features \(options.features): \(error)")
  }
  guard file.complete else {
    throw FitError.usage("--features \(options.features): the file is incomplete (its extraction did not finish)")
  }
  // Stratify a random split by the first classification head's column.
  let strata = options.heads.lazy.compactMap { request -> [Int32]? in
    guard request.kind == "softmax" || request.kind == "sigmoid",
      case .categorical(_, _, let indices)? = file.labels.first(where: { $0.name == request.column })
    else { return nil }
    return indices
  }.first
  let split = try splitRows(file: file, valSplit: options.valSplit, seed: options.seed, strata: strata)
  guard !split.train.isEmpty else { throw FitError.usage("no training rows") }
  var seen = Set<String>()
  var heads: [ResolvedHead] = []
  for request in options.heads {
    guard seen.insert(request.name).inserted else { throw FitError.usage("head '\(request.name)' is declared twice") }
    heads.append(try resolve(request, labels: file.labels, trainRows: split.train))
  }
  let targets = heads.map { head -> HeadTargets in
    switch head.spec.kind {
    case .tanh: return .regression(head.valueLabels, low: head.range!.low, high: head.range!.high)
    case .softmax: return .classes(head.classLabels, count: head.spec.outputs)
    case .sigmoid: return .multiLabel(head.classLabels.map { $0 < 0 ? -1 : Float($0) }, labelCount: 1)
    case .embedding: return .wheel(head.classLabels)
    }
  }
  // Class weights scale the training rows' losses only, as Keras' class_weight does; validation
  // and test losses stay unweighted.
  var trainingTargets = targets
  for (h, head) in heads.enumerated() {
    guard let weights = options.heads[h].classWeights else { continue }
    guard head.spec.kind != .tanh else {
      throw FitError.usage("head '\(head.spec.name)': class_weights apply to softmax and sigmoid heads only")
    }
    let factors = try weights.factors(classes: head.classNames, trainLabels: split.train.map { head.classLabels[$0] })
    for row in 0..<trainingTargets[h].rowWeights.count where head.classLabels[row] >= 0 {
      trainingTargets[h].rowWeights[row] *= factors[Int(head.classLabels[row])]
    }
  }
  let specs = heads.map(\.spec)
  let d = file.dimension
  let train = gatherRows(split.train, features: file.features, width: d, targets: trainingTargets)
  let val = gatherRows(split.val, features: file.features, width: d, targets: targets)

  var model = MultiHeadModel(specs: specs, inputWidth: d, seed: options.seed)
  var optimizer = Optimizer(
    try optimizerKind(options.optimizer, learningRate: options.learningRate),
    parameterCount: model.parameters.count)
  var best = (loss: Double.infinity, epoch: 0, parameters: model.parameters)
  var history: [(train: HeadLosses, val: HeadLosses?)] = []
  var sinceBest = 0
  for epoch in 0..<options.epochs {
    let batches = epochBatches(
      rows: split.train.count, batchSize: options.batchSize, epoch: epoch, seed: options.seed, shuffle: true)
    let trainLosses = trainEpoch(
      &model, optimizer: &optimizer, features: train.features, targets: train.targets, batches: batches)
    let valLosses = split.val.isEmpty ? nil : loss(of: model, features: val.features, targets: val.targets)
    history.append((trainLosses, valLosses))
    let monitored = valLosses?.total ?? trainLosses.total
    log(
      String(format: "epoch %d/%d  loss %.4f", epoch + 1, options.epochs, trainLosses.total)
        + (valLosses.map { String(format: "  val_loss %.4f", $0.total) } ?? ""))
    if monitored < best.loss {
      best = (monitored, epoch, model.parameters)
      sinceBest = 0
    } else {
      sinceBest += 1
      if sinceBest > options.patience {
        log("early stopping: val_loss has not improved for \(options.patience) epochs; keeping epoch \(best.epoch + 1)")
        break
      }
    }
  }
  model.parameters = best.parameters

  var reports: [(name: String, report: HeadReport)] = []
  let valOutputs = split.val.isEmpty ? nil : model.predict(features: val.features)
  let testFeatures = gatherRows(split.test, features: file.features, width: d, targets: targets).features
  let testOutputs = split.test.isEmpty ? nil : model.predict(features: testFeatures)
  for (h, head) in heads.enumerated() {
    var report = HeadReport(kind: head.spec.kind.rawValue)
    var thresholds: [Double]?
    if let valOutputs {
      let metrics = metricsOf(head, outputs: valOutputs[h], rows: split.val, thresholds: nil)
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
  let kind = try optimizerKind(options.optimizer, learningRate: options.learningRate)
  let headsFile = HeadsFile(
    specs: specs, columns: Dictionary(uniqueKeysWithValues: heads.map { ($0.spec.name, $0.column) }),
    classNames: Dictionary(
      uniqueKeysWithValues: heads.filter { $0.spec.kind != .tanh }.map { ($0.spec.name, $0.classNames) }),
    labelRanges: Dictionary(
      uniqueKeysWithValues: heads.compactMap { head in
        head.range.map { (head.spec.name, Float($0.low)...Float($0.high)) }
      }),
    thresholds: thresholds, parameters: model.parameters, inputWidth: d, provenance: file.attributes,
    training: TrainingRecord(
      optimizer: options.optimizer, optimizerSettings: kind.settings, epochsRun: history.count,
      bestEpoch: best.epoch + 1, batchSize: options.batchSize, seed: options.seed,
      history: historyColumns(history, heads: specs.map(\.name))),
    toolVersion: "0.1.0")
  return FitResult(
    model: model, heads: reports, epochsRun: history.count, bestEpoch: best.epoch + 1, history: history,
    rows: (split.train.count, split.val.count, split.test.count), headsFile: headsFile)
}

/// The losses of `model` over all of `features` (no update), as one batch.
func loss(of model: MultiHeadModel, features: [Float], targets: [HeadTargets]) -> HeadLosses {
  var scratch = [Float](repeating: 0, count: model.parameters.count)
  return features.withUnsafeBufferPointer { x in
    scratch.withUnsafeMutableBufferPointer { g in
      model.lossAndGradient(features: x, targets: targets, rows: 0..<(features.count / model.inputWidth), gradients: g)
    }
  }
}

func metricsOf(_ head: ResolvedHead, outputs: [Float], rows: [Int], thresholds: [Double]?) -> HeadMetrics {
  switch head.spec.kind {
  case .softmax:
    return .classification(
      classificationMetrics(
        scores: outputs, labels: rows.map { head.classLabels[$0] }, classes: head.spec.outputs,
        classNames: head.classNames))
  case .sigmoid:
    return .sigmoid(
      sigmoidMetrics(
        scores: outputs, labels: rows.map { head.classLabels[$0] < 0 ? -1 : Float(head.classLabels[$0]) },
        labelCount: 1, labelNames: [head.classNames.last ?? head.spec.name], thresholds: thresholds))
  case .embedding:
    return .embedding(
      embeddingMetrics(
        predictions: outputs.map { Int($0) }, labels: rows.map { head.classLabels[$0] },
        classes: head.classNames.count))
  case .tanh:
    return .regression(
      regressionMetrics(
        predictions: fromUnitRange(outputs, low: head.range!.low, high: head.range!.high),
        labels: rows.map { head.valueLabels[$0] }))
  }
}

func optimizerKind(_ name: String, learningRate: Double?) throws -> OptimizerKind {
  let lr = learningRate ?? TrainingDefaults.learningRate
  switch name {
  case "adam": return .adam(learningRate: lr)
  case "adamax": return .adamax(learningRate: lr)
  case "rmsprop": return .rmsprop(learningRate: lr)
  case "sgd": return .sgd(learningRate: lr, momentum: 0.9)
  default: throw FitError.usage("--optimizer \(name): expected adam, adamax, rmsprop or sgd")
  }
}

/// Keras-style history columns: `loss`, `<head>_loss`, and `val_` versions when there is validation.
func historyColumns(_ history: [(train: HeadLosses, val: HeadLosses?)], heads: [String]) -> [String: [Float]] {
  var columns: [String: [Float]] = ["loss": history.map { Float($0.train.total) }]
  for (h, name) in heads.enumerated() { columns["\(name)_loss"] = history.map { Float($0.train.heads[h]) } }
  if history.allSatisfy({ $0.val != nil }) {
    columns["val_loss"] = history.map { Float($0.val!.total) }
    for (h, name) in heads.enumerated() { columns["val_\(name)_loss"] = history.map { Float($0.val!.heads[h]) } }
  }
  return columns
}

extension OptimizerKind {
  /// The optimiser's settings by Keras' argument names, for the heads file.
  var settings: [String: Double] {
    switch self {
    case .sgd(let lr, let momentum, let nesterov):
      return ["learning_rate": lr, "momentum": momentum, "nesterov": nesterov ? 1 : 0]
    case .adam(let lr, let b1, let b2, let eps), .adamax(let lr, let b1, let b2, let eps):
      return ["learning_rate": lr, "beta_1": b1, "beta_2": b2, "epsilon": eps]
    case .rmsprop(let lr, let rho, let momentum, let eps):
      return ["learning_rate": lr, "rho": rho, "momentum": momentum, "epsilon": eps]
    }
  }
}
