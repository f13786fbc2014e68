// The training loop of `fit-heads`: shuffled mini-batches, validation loss every epoch, early
// stopping with patience, keeping the best epoch's weights; and the heads' targets it trains on.

import Heads
import Support

/// Each head's targets for every row, in the head's training form.
func headTargets(_ head: ResolvedHead) -> HeadTargets {
  switch head.spec.kind {
  case .tanh: return .regression(head.valueLabels, low: head.range!.low, high: head.range!.high)
  case .softmax: return .classes(head.classLabels, count: head.spec.outputs)
  case .sigmoid:
    return .multiLabel(head.sigmoidLabels(rows: Array(head.classLabels.indices)), labelCount: head.spec.outputs)
  case .embedding: return .wheel(head.classLabels)
  }
}

/// `targets` with each requested head's class weights folded into its row weights. Class weights
/// scale the training rows' losses only, as Keras' class_weight does; validation and test losses
/// stay unweighted.
func weightedForTraining(
  _ targets: [HeadTargets], heads: [ResolvedHead], requests: [HeadRequest], trainRows: [Int]
) throws -> [HeadTargets] {
  var weighted = targets
  for (h, head) in heads.enumerated() {
    guard let weights = requests[h].classWeights else { continue }
    guard head.spec.kind != .tanh else {
      throw FitError.usage("head '\(head.spec.name)': class_weights apply to softmax and sigmoid heads only")
    }
    let factors = try weights.factors(classes: head.classNames, trainLabels: trainRows.map { head.classLabels[$0] })
    for row in 0..<weighted[h].rowWeights.count where head.classLabels[row] >= 0 {
      weighted[h].rowWeights[row] *= factors[Int(head.classLabels[row])]
    }
  }
  return weighted
}

/// Trains `model` on the training rows `trainRows` (file row indices, ascending) of `source` for
/// up to `options.epochs`, checking the validation rows `valRows` every epoch; leaves the best
/// epoch's parameters in `model`. `trainTargets` and `valTargets` hold every file row (the
/// training ones with class weights folded in). Returns the history and the best epoch, counted
/// from 1. `epochEnded` sees the model after every epoch (epoch counted from 0), e.g. to record
/// validation metrics per epoch.
func trainWithEarlyStopping(
  _ model: inout MultiHeadModel, source: FeatureSource, trainRows: [Int], valRows: [Int],
  trainTargets: [HeadTargets], valTargets: [HeadTargets], options: FitOptions, log: (String) -> Void,
  epochEnded: (_ epoch: Int, _ model: MultiHeadModel) throws -> Void = { _, _ in }
) throws -> (history: [(train: HeadLosses, val: HeadLosses?)], bestEpoch: Int) {
  try HeadsTrainer.withSingleThreadedBLAS {
    try trainEpochs(
      &model, source: source, trainRows: trainRows, valRows: valRows, trainTargets: trainTargets,
      valTargets: valTargets, options: options, log: log, epochEnded: epochEnded)
  }
}

/// `trainWithEarlyStopping`'s epochs.
private func trainEpochs(
  _ model: inout MultiHeadModel, source: FeatureSource, trainRows: [Int], valRows: [Int],
  trainTargets: [HeadTargets], valTargets: [HeadTargets], options: FitOptions, log: (String) -> Void,
  epochEnded: (_ epoch: Int, _ model: MultiHeadModel) throws -> Void
) throws -> (history: [(train: HeadLosses, val: HeadLosses?)], bestEpoch: Int) {
  let trainer = HeadsTrainer(
    model: model, optimizer: try optimizerKind(options.optimizer, learningRate: options.learningRate),
    weightDecay: options.weightDecay, batchSize: options.batchSize)
  var best = (loss: Double.infinity, epoch: 0, parameters: model.parameters)
  var history: [(train: HeadLosses, val: HeadLosses?)] = []
  var sinceBest = 0
  for epoch in 0..<options.epochs {
    // Each epoch its own dropout masks, from the seed.
    let maskSeed = SplitMix64.mix(options.seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
    let trainLosses = try trainer.trainEpoch(
      targets: trainTargets, maskSeed: maskSeed, rowsStayValid: !source.isStreaming
    ) { push in
      try source.forEachTrainingRow(trainRows, batchSize: options.batchSize, epoch: epoch, seed: options.seed, push)
    }
    model = trainer.model
    let valLosses =
      valRows.isEmpty
      ? nil
      : try trainer.evaluateLoss(targets: valTargets, rowsStayValid: !source.isStreaming) { push in
        try source.forEachRow(valRows, push)
      }
    history.append((trainLosses, valLosses))
    try epochEnded(epoch, model)
    let monitored = valLosses?.total ?? trainLosses.total
    log(
      String(format: "epoch %d/%d  loss %.4f", epoch + 1, options.epochs, trainLosses.total)
        + (valLosses.map { String(format: "  val_loss %.4f", $0.total) } ?? ""))
    if monitored < best.loss {
      best = (monitored, epoch, model.parameters)
      sinceBest = 0
    } else {
      sinceBest += 1
      if shouldStopEarly(epochsSinceBest: sinceBest, patience: options.patience) {
        log("early stopping: val_loss has not improved for \(options.patience) epochs; keeping epoch \(best.epoch + 1)")
        break
      }
    }
  }
  model.parameters = best.parameters
  return (history, best.epoch + 1)
}

/// Every head's outputs (`MultiHeadModel.predict`) for `rows` (file row indices, ascending).
/// The first layers run on the prediction's own threads; the later layers' small products run
/// single-threaded in OpenBLAS, as in training, so that its workers do not spin on the cores
/// those threads use.
func predict(_ model: MultiHeadModel, source: FeatureSource, rows: [Int]) throws -> [[Float]] {
  try HeadsTrainer.withSingleThreadedBLAS {
    var outputs = [[Float]](repeating: [], count: model.specs.count)
    try source.forEachBlock(rows, blockRows: 2048) { block in
      for (h, part) in model.predict(rows: block).enumerated() { outputs[h] += part }
    }
    return outputs
  }
}
