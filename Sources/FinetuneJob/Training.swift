// The epochs: shuffled mini-batches of block inputs (cached, or augmented images through the
// frozen prefix) through the last block and the heads, validation loss and metrics every epoch,
// the best epoch's arrays kept, early stopping with patience, and a checkpoint after every epoch.

import Backbones
import Finetuning
import Foundation
import Heads

struct TrainingSetup {
  var kind: BackboneKind
  /// The block inputs by position.
  var source: any BlockInputSource
  /// Each head's targets by position.
  var targets: [HeadTargets]
  var specs: [HeadSpec]
  var classNames: [String: [String]]
  var labelRanges: [String: ClosedRange<Float>]
  var train: [Int]
  var val: [Int]
  var epochs: Int
  var batchSize: Int
  var seed: UInt64
  var patience: Int
  var checkpointPath: String
  var fingerprint: String
  var stopAfter: Int?
  var quiet: Bool
}

struct TrainingOutcome {
  var block: KerasWeights
  var heads: [Float]
  var bestEpoch: Int
  var epochsRun: Int
  var history: [String: [Float]]
  var finished: Bool
}

/// Runs (or continues from `checkpoint`) the epochs on `trainer`.
func runEpochs(
  _ trainer: any LastBlockTraining, setup: TrainingSetup, checkpoint: Checkpoint?, log: (String) -> Void
) throws -> TrainingOutcome {
  var state =
    checkpoint
    ?? Checkpoint(
      fingerprint: setup.fingerprint, epochsDone: 0, bestEpoch: 0, bestLoss: .infinity, history: [:],
      block: KerasWeights(), heads: [], optimizers: [], bestBlock: KerasWeights(), bestHeads: [])
  if checkpoint == nil {
    trainer.write(into: &state.bestBlock)
    state.bestHeads = trainer.heads.parameters
  }
  let widths = setup.specs.map(\.targetWidth)
  var epochSeconds: [Double] = []
  var epoch = state.epochsDone
  var interrupted = false
  // A run killed after its early-stopping epoch was checkpointed must not train on.
  let stoppedEarly = epoch > 0 && shouldStopEarly(epochsSinceBest: epoch - state.bestEpoch, patience: setup.patience)
  while epoch < setup.epochs, !stoppedEarly {
    if let stop = setup.stopAfter, epoch >= stop {
      interrupted = true
      break
    }
    let start = Date()
    let batches = epochBatches(
      rows: setup.train.count, batchSize: setup.batchSize, epoch: epoch, seed: setup.seed, shuffle: true)
    var trainLoss = [Double](repeating: 0, count: setup.specs.count + 1)
    for batch in batches {
      let positions = batch.map { setup.train[$0] }
      let input = try setup.source.trainingInput(positions, epoch: epoch)
      let targets = zip(setup.targets, widths).map { $0.gathering(rows: positions, width: $1) }
      let losses = try input.block.withUnsafeBufferPointer { block in
        try input.fixed.withUnsafeBufferPointer { fixed in
          try trainer.step(blockInput: block, fixed: fixed, count: positions.count, targets: targets)
        }
      }
      accumulate(&trainLoss, losses, count: positions.count)
    }
    record(&state.history, "loss", trainLoss, specs: setup.specs, rows: setup.train.count)
    let inputsNote = setup.source.endEpoch()
    var monitored = trainLoss[0] / Double(max(1, setup.train.count))
    var metricsText = ""
    if !setup.val.isEmpty {
      let (valLoss, outputs) = try evaluate(trainer, setup: setup, widths: widths)
      record(&state.history, "val_loss", valLoss, specs: setup.specs, rows: setup.val.count)
      monitored = valLoss[0] / Double(setup.val.count)
      metricsText = metrics(outputs, setup: setup)
    }
    epoch += 1
    if monitored < state.bestLoss {
      state.bestLoss = monitored
      state.bestEpoch = epoch
      trainer.write(into: &state.bestBlock)
      state.bestHeads = trainer.heads.parameters
    }
    state.epochsDone = epoch
    trainer.write(into: &state.block)
    state.heads = trainer.heads.parameters
    state.optimizers = trainer.optimizerStates
    try state.write(to: setup.checkpointPath)
    epochSeconds.append(Date().timeIntervalSince(start))
    let mean = epochSeconds.reduce(0, +) / Double(epochSeconds.count)
    let train = state.history["loss"]!.last!
    let val = state.history["val_loss"]?.last.map { String(format: ", val_loss %.4f", $0) } ?? ""
    log(
      String(format: "epoch %d/%d: loss %.4f", epoch, setup.epochs, train) + val + metricsText
        + String(format: "; %.1f s", epochSeconds.last!) + (inputsNote.isEmpty ? "" : " (\(inputsNote))")
        + String(format: ", ETA %.0f s", mean * Double(setup.epochs - epoch)))
    if shouldStopEarly(epochsSinceBest: epoch - state.bestEpoch, patience: setup.patience) {
      log("early stopping: no better \(setup.val.isEmpty ? "loss" : "val_loss") for \(setup.patience) epochs")
      break
    }
  }
  return TrainingOutcome(
    block: state.bestBlock, heads: state.bestHeads, bestEpoch: state.bestEpoch, epochsRun: state.epochsDone,
    history: state.history, finished: !interrupted)
}

/// Adds a batch's mean losses, weighted by its row count: total first, then per head.
private func accumulate(_ sums: inout [Double], _ losses: HeadLosses, count: Int) {
  sums[0] += losses.total * Double(count)
  for (h, loss) in losses.heads.enumerated() { sums[h + 1] += loss * Double(count) }
}

private func record(_ history: inout [String: [Float]], _ name: String, _ sums: [Double], specs: [HeadSpec], rows: Int)
{
  let n = Double(max(1, rows))
  history[name, default: []].append(Float(sums[0] / n))
  let prefix = name == "loss" ? "" : "val_"
  for (h, spec) in specs.enumerated() {
    history["\(prefix)\(spec.name)_loss", default: []].append(Float(sums[h + 1] / n))
  }
}

/// Validation losses (summed over rows) and every head's outputs on the validation rows.
private func evaluate(_ trainer: any LastBlockTraining, setup: TrainingSetup, widths: [Int]) throws -> (
  [Double], [[Float]]
) {
  var sums = [Double](repeating: 0, count: setup.specs.count + 1)
  var features: [Float] = []
  for first in stride(from: 0, to: setup.val.count, by: setup.batchSize) {
    let positions = Array(setup.val[first..<min(first + setup.batchSize, setup.val.count)])
    let input = try setup.source.validationInput(positions)
    let targets = zip(setup.targets, widths).map { $0.gathering(rows: positions, width: $1) }
    let (losses, batchFeatures) = try input.block.withUnsafeBufferPointer { block in
      try input.fixed.withUnsafeBufferPointer { fixed in
        try trainer.lossAndFeatures(blockInput: block, fixed: fixed, count: positions.count, targets: targets)
      }
    }
    accumulate(&sums, losses, count: positions.count)
    features += batchFeatures
  }
  return (sums, trainer.heads.predict(features: features))
}

/// Accuracy of softmax and embedding heads, mean absolute error of tanh heads (in the label's
/// units), and for sigmoid heads the share of label decisions right at 0.5 (every label of every
/// labelled row).
private func metrics(_ outputs: [[Float]], setup: TrainingSetup) -> String {
  var parts: [String] = []
  for (h, spec) in setup.specs.enumerated() {
    let labels = setup.val.map { setup.targets[h].gathering(rows: [$0], width: spec.targetWidth) }
    let known = labels.indices.filter { labels[$0].rowWeights[0] > 0 }
    guard !known.isEmpty else { continue }
    switch spec.kind {
    case .softmax:
      let predicted = predictedClasses(scores: outputs[h], classes: spec.outputs)
      let right = known.filter { labels[$0].values[predicted[$0]] == 1 }.count
      parts.append(String(format: "%@ acc %.3f", spec.name, Double(right) / Double(known.count)))
    case .embedding:
      let right = known.filter { Float(outputs[h][$0]) == labels[$0].values[0] }.count
      parts.append(String(format: "%@ acc %.3f", spec.name, Double(right) / Double(known.count)))
    case .tanh:
      let range = setup.labelRanges[spec.name] ?? (-1...1)
      let errors = known.map {
        abs(
          fromUnitRange(outputs[h][$0], low: Double(range.lowerBound), high: Double(range.upperBound))
            - fromUnitRange(labels[$0].values[0], low: Double(range.lowerBound), high: Double(range.upperBound)))
      }
      parts.append(String(format: "%@ mae %.4g", spec.name, errors.reduce(0, +) / Double(errors.count)))
    case .sigmoid:
      let width = spec.outputs
      let right = known.reduce(0) { sum, i in
        sum + (0..<width).filter { (outputs[h][i * width + $0] >= 0.5) == (labels[i].values[$0] == 1) }.count
      }
      parts.append(String(format: "%@ acc@0.5 %.3f", spec.name, Double(right) / Double(known.count * width)))
    }
  }
  return parts.isEmpty ? "" : ", " + parts.joined(separator: ", ")
}
