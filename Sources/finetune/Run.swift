// One fine-tuning run: check everything that can be checked before any pixel is decoded, compute
// the block inputs once, train (or continue) the epochs, and write the model and its heads.

import Backbones
import Extraction
import Finetuning
import Fitting
import Foundation
import Heads

func runFinetune(_ command: Finetune, log: (String) -> Void) throws {
  let recipe = try readRecipe(headsPath: command.heads)
  let source: LabelSource =
    if let csv = command.labels { .csv(csv) } else if let columns = command.dirLabels {
      .splitFolders(columns.split(separator: ",").map(String.init))
    } else { .folders }
  let dataset: Dataset
  do {
    dataset = try Dataset.load(root: command.images, labels: source)
  } catch let error as ExtractError {
    throw FinetuneFailure.usage(error.description)
  }
  guard !dataset.paths.isEmpty else { throw FinetuneFailure.usage("--images \(command.images): no images") }
  let rowTargets = try headTargets(recipe.heads, labels: dataset.labels)
  let choice: WeightsChoice =
    switch command.weights {
    case nil: .kerasDefault
    case "random": .random(seed: command.seed)
    case let path?: .file(path)
    }
  let start = try identifyStartWeights(choice, recipe: recipe, headsPath: command.heads)
  let headsDigest = try SHA256.hexDigest(ofFile: command.heads)

  // The arguments that decide the result; threads, memory, quiet and the test flags do not.
  var fingerprint = [
    "images=\(command.images)", "labels=\(command.labels ?? "")", "dir-labels=\(command.dirLabels ?? "")",
    "heads=\(headsDigest)", "weights=\(start.file) \(start.sha256)", "epochs=\(command.epochs)",
    "batch-size=\(command.batchSize)", "optimizer=\(command.optimizer)",
    "learning-rate=\(command.learningRate.map { "\($0)" } ?? "default")", "bn=\(command.bn)",
    "unfreeze=\(command.unfreeze)", "val-split=\(command.valSplit)", "shuffle-seed=\(command.shuffleSeed)",
    "patience=\(command.patience)", "images-count=\(dataset.paths.count)",
  ].joined(separator: "\n")
  fingerprint += cachePrecisionFingerprint(command.cachePrecision)
  let checkpointPath = command.output + ".partial"
  let checkpoint = try Checkpoint.read(path: checkpointPath)
  if let checkpoint, checkpoint.fingerprint != fingerprint {
    let theirs = Set(checkpoint.fingerprint.split(separator: "\n"))
    let differing = fingerprint.split(separator: "\n").filter { !theirs.contains($0) }
      .map { String($0.prefix { $0 != "=" }) }
    throw FinetuneFailure.usage(
      "\(checkpointPath) belongs to a run with other arguments (\(differing.joined(separator: ", ")) differ); "
        + "rerun with the same ones to continue, or remove it to start over")
  }

  let kind = recipe.kind
  let height = recipe.loading.height
  let width = recipe.loading.width
  let startWeights = try start.load()
  let backbone: Backbone
  do {
    backbone = try Backbone(kind: kind, weights: startWeights)
  } catch {
    throw FinetuneFailure.usage("--weights \(start.file): \(error)")
  }
  let inputs = try BlockInputs.compute(
    backbone: backbone, root: command.images, paths: dataset.paths, loading: recipe.loading,
    batchSize: command.batchSize, threads: command.threads, maxBytes: parseByteCount(command.maxMemory)!,
    cacheDirectory: command.cacheDir, precision: command.cachePrecision, quiet: command.quiet)
  defer { inputs.removeCache() }
  if let disk = inputs.disk { log("block inputs over --max-memory: kept on disk in \(disk.path)") }
  for (path, reason) in inputs.failed { log("warning: \(path): \(reason) (skipped)") }
  guard !inputs.rows.isEmpty else { throw FinetuneFailure.usage("--images \(command.images): no usable images") }

  // Targets and split by position in the cached inputs.
  let targets = zip(rowTargets, recipe.heads.specs).map { $0.gathering(rows: inputs.rows, width: $1.targetWidth) }
  let split = splitRows(
    labels: dataset.labels, count: dataset.paths.count, valSplit: command.valSplit, seed: command.shuffleSeed)
  var position: [Int: Int] = [:]
  for (i, row) in inputs.rows.enumerated() { position[row] = i }
  let train = split.train.compactMap { position[$0] }
  let val = split.val.compactMap { position[$0] }
  guard !train.isEmpty else { throw FinetuneFailure.usage("no training images (check the split column)") }

  let epochs = Double(command.epochs)
  log(
    String(
      format: "block inputs of %d images (%@) computed once: %.1f s in the frozen prefix (%.1f s with decoding); "
        + "recomputing them would cost %.1f s per epoch, %.1f s over %d epochs",
      inputs.rows.count, LastBlock.inputLayer(kind), inputs.prefixSeconds, inputs.totalSeconds,
      inputs.prefixSeconds, inputs.prefixSeconds * epochs, command.epochs))

  let optimizer = try optimizerKind(command.optimizer, learningRate: command.learningRate)
  let batchNorm: FinetuneBatchNorm =
    switch command.bn {
    case "frozen": .frozen
    case "train": .training(momentum: 0.99)
    default: .frozenStatistics
    }
  var blockWeights = startWeights
  var headParameters = recipe.heads.parameters
  if let checkpoint {
    for (layer, arrays) in checkpoint.block.layers { blockWeights.layers[layer] = arrays }
    headParameters = checkpoint.heads
    log("continuing from \(checkpointPath) after epoch \(checkpoint.epochsDone)")
  }
  let heads = MultiHeadModel(specs: recipe.heads.specs, inputWidth: recipe.heads.inputWidth, parameters: headParameters)
  let trainer: any LastBlockTraining
  do {
    trainer = try LastBlock.trainer(
      kind, weights: blockWeights, heads: heads, optimizer: optimizer, batchNorm: batchNorm, height: height,
      width: width)
  } catch let error as FinetuneError {
    throw FinetuneFailure.usage("--heads \(command.heads): \(error)")
  }
  if let checkpoint { trainer.optimizerStates = checkpoint.optimizers }

  let outcome = try runEpochs(
    trainer,
    setup: TrainingSetup(
      kind: kind, inputs: inputs, targets: targets, specs: recipe.heads.specs, classNames: recipe.heads.classNames,
      labelRanges: recipe.heads.labelRanges, train: train, val: val, epochs: command.epochs,
      batchSize: command.batchSize, seed: command.shuffleSeed, patience: command.patience,
      checkpointPath: checkpointPath, fingerprint: fingerprint, stopAfter: command.stopAfterEpochs,
      quiet: command.quiet),
    checkpoint: checkpoint, log: log)
  guard outcome.finished else {
    log("stopped after epoch \(outcome.epochsRun); rerun the same command to continue from \(checkpointPath)")
    return
  }

  var modelWeights = startWeights
  for (layer, arrays) in outcome.block.layers { modelWeights.layers[layer] = arrays }
  let headsPath = try export(
    modelWeights, kind: kind, heads: recipe.heads, parameters: outcome.heads, outcome: outcome, command: command,
    optimizer: optimizer)
  if let path = command.trainerPredictions {
    try writeTrainerPredictions(
      path, kind: kind, weights: modelWeights, heads: recipe.heads, parameters: outcome.heads, inputs: inputs,
      paths: dataset.paths, height: height, width: width)
  }
  try? FileManager.default.removeItem(atPath: checkpointPath)
  log(
    "best epoch \(outcome.bestEpoch) of \(outcome.epochsRun) -> \(command.output) (backbone, Keras legacy layout) "
      + "and \(headsPath) (heads)")
}
