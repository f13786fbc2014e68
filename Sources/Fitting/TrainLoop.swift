// The training loop of `fit-heads`: shuffled mini-batches, validation loss every epoch, early
// stopping with patience, keeping the best epoch's weights; and the heads' targets it trains on.

import Heads

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

/// Trains `model` on `train` (rows gathered, features (N, D)) for up to `options.epochs`, checking
/// `val` every epoch; leaves the best epoch's parameters in `model`. Returns the history and the
/// best epoch, counted from 1. `epochEnded` sees the model after every epoch (epoch counted from 0),
/// e.g. to record validation metrics per epoch.
func trainWithEarlyStopping(
  _ model: inout MultiHeadModel, train: (features: [Float], targets: [HeadTargets]),
  val: (features: [Float], targets: [HeadTargets])?, trainRows: Int, options: FitOptions, log: (String) -> Void,
  epochEnded: (_ epoch: Int, _ model: MultiHeadModel) -> Void = { _, _ in }
) throws -> (history: [(train: HeadLosses, val: HeadLosses?)], bestEpoch: Int) {
  var optimizer = Optimizer(
    try optimizerKind(options.optimizer, learningRate: options.learningRate),
    parameterCount: model.parameters.count)
  var best = (loss: Double.infinity, epoch: 0, parameters: model.parameters)
  var history: [(train: HeadLosses, val: HeadLosses?)] = []
  var sinceBest = 0
  for epoch in 0..<options.epochs {
    let batches = epochBatches(
      rows: trainRows, batchSize: options.batchSize, epoch: epoch, seed: options.seed, shuffle: true)
    let trainLosses = trainEpoch(
      &model, optimizer: &optimizer, features: train.features, targets: train.targets, batches: batches)
    let valLosses = val.map { loss(of: model, features: $0.features, targets: $0.targets) }
    history.append((trainLosses, valLosses))
    epochEnded(epoch, model)
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
  return (history, best.epoch + 1)
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
