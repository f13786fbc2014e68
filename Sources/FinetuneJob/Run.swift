// One fine-tuning run: check everything that can be checked before any pixel is decoded, compute
// the block inputs once (or, with augmentation, the validation ones once and the training ones
// every batch), train (or continue) the epochs, and write the model and its heads.

import Backbones
import Extraction
import Finetuning
import Fitting
import Foundation
import Heads
import ImageIO

func runFinetune(_ command: Finetune, log: (String) -> Void) throws {
  let recipe = try readRecipe(headsPath: command.heads)
  let trainable = try unfrozenLayers(command.unfreeze, kind: recipe.kind, bn: command.bn)
  for spec in recipe.heads.specs where spec.dropout > 0 {
    log(
      "note: head '\(spec.name)' trained with dropout \(spec.dropout) in fit-heads; finetune trains it without "
        + "dropout")
  }
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
  let augmentation = SeededAugmentation(
    settings: try command.augmentation.settings(), seed: command.augmentation.augmentSeed)

  // The arguments that decide the result; threads, memory, quiet and the test flags do not.
  // Settings that change no pixel leave the fingerprint as it was before augmentation existed.
  var fingerprintLines = [
    "images=\(command.images)", "labels=\(command.labels ?? "")", "dir-labels=\(command.dirLabels ?? "")",
    "heads=\(headsDigest)", "weights=\(start.file) \(start.sha256)", "epochs=\(command.epochs)",
    "batch-size=\(command.batchSize)", "optimizer=\(command.optimizer)",
    "learning-rate=\(command.learningRate.map { "\($0)" } ?? "default")", "bn=\(command.bn)",
    "unfreeze=\(command.unfreeze)", "val-split=\(command.valSplit)", "shuffle-seed=\(command.shuffleSeed)",
    "patience=\(command.patience)", "images-count=\(dataset.paths.count)",
  ]
  if !augmentation.settings.isIdentity {
    fingerprintLines += ["augmentation=\(augmentation.settings.summary)", "augment-seed=\(augmentation.seed)"]
  }
  let fingerprint = fingerprintLines.joined(separator: "\n") + cachePrecisionFingerprint(command.cachePrecision)
  let checkpointPath = command.output + ".partial"
  let checkpoint = try Checkpoint.read(path: checkpointPath)
  if let checkpoint, checkpoint.fingerprint != fingerprint {
    let theirs = Set(checkpoint.fingerprint.split(separator: "\n"))
    let ours = Set(fingerprint.split(separator: "\n"))
    let differing = Set(theirs.symmetricDifference(ours).map { String($0.prefix { $0 != "=" }) }).sorted()
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
  let split = splitRows(
    labels: dataset.labels, count: dataset.paths.count, valSplit: command.valSplit, seed: command.shuffleSeed)
  let inputs = try prepareInputs(
    command, augmentation: augmentation, backbone: backbone, loading: recipe.loading, paths: dataset.paths,
    split: split, log: log)
  defer { inputs.removeCache() }
  let targets = zip(rowTargets, recipe.heads.specs).map { $0.gathering(rows: inputs.rows, width: $1.targetWidth) }

  let optimizer = try finetuneOptimizer(command.optimizer, learningRate: command.learningRate)
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
      kind, weights: blockWeights, heads: heads, optimizer: optimizer, batchNorm: batchNorm, trainable: trainable,
      height: height, width: width)
  } catch let error as FinetuneError {
    throw FinetuneFailure.usage("--heads \(command.heads): \(error)")
  }
  if let checkpoint { trainer.optimizerStates = checkpoint.optimizers }

  let outcome = try runEpochs(
    trainer,
    setup: TrainingSetup(
      kind: kind, source: inputs.source, targets: targets, specs: recipe.heads.specs,
      classNames: recipe.heads.classNames,
      labelRanges: recipe.heads.labelRanges, train: inputs.train, val: inputs.val, epochs: command.epochs,
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
    let all =
      try (inputs.source as? BlockInputs)
      ?? BlockInputs.compute(
        backbone: backbone, root: command.images, paths: dataset.paths, loading: recipe.loading,
        batchSize: command.batchSize, threads: command.threads, maxBytes: Int.max, cacheDirectory: nil, quiet: true)
    try writeTrainerPredictions(
      path, kind: kind, weights: modelWeights, heads: recipe.heads, parameters: outcome.heads, inputs: all,
      paths: dataset.paths, height: height, width: width)
  }
  try? FileManager.default.removeItem(atPath: checkpointPath)
  log(
    "best epoch \(outcome.bestEpoch) of \(outcome.epochsRun) -> \(command.output) (backbone, Keras legacy layout) "
      + "and \(headsPath) (heads)")
}

/// The block inputs of a run by position, the dataset row of each position, and which positions
/// train and which validate.
struct PreparedInputs {
  var source: any BlockInputSource
  var rows: [Int]
  var train: [Int]
  var val: [Int]
  var removeCache: () -> Void
}

/// Without augmentation, every image's block input once (the cache); with it, the validation
/// images' block inputs once and the training images ready to be augmented every epoch. Logs
/// what the cache saves, or what augmentation costs.
func prepareInputs(
  _ command: Finetune, augmentation: SeededAugmentation, backbone: Backbone, loading: LoadOptions, paths: [String],
  split: (train: [Int], val: [Int]), log: (String) -> Void
) throws -> PreparedInputs {
  let maxBytes = parseByteCount(command.maxMemory)!
  let epochs = Double(command.epochs)
  let prefixLayer = LastBlock.inputLayer(backbone.kind)
  if !augmentation.settings.isIdentity {
    let source = try AugmentedBlockInputs(
      backbone: backbone, augmentation: augmentation, root: command.images, paths: paths, trainRows: split.train,
      valRows: split.val, loading: loading, batchSize: command.batchSize, threads: command.threads,
      maxBytes: maxBytes, cacheDirectory: command.cacheDir, precision: command.cachePrecision, quiet: command.quiet)
    let prepared = PreparedInputs(
      source: source, rows: source.rows, train: Array(0..<source.trainCount),
      val: Array(source.trainCount..<source.rows.count), removeCache: source.removeCache)
    if let disk = source.validation.disk { log("validation block inputs over --max-memory: kept in \(disk.path)") }
    for (path, reason) in source.failed { log("warning: \(path): \(reason) (skipped)") }
    guard source.trainCount > 0 else {
      prepared.removeCache()
      throw FinetuneFailure.usage("no usable training images (check the split column)")
    }
    log(
      String(
        format: "augmentation (%@, seed %llu): the frozen prefix (up to %@) runs every epoch on %d training "
          + "images, %@; validation block inputs of %d images computed once (%.1f s in the prefix, "
          + "%.1f s with decoding all images); without augmentation they would all be cached",
        augmentation.settings.summary, augmentation.seed, prefixLayer, source.trainCount,
        source.keptInMemory ? "decoded once and kept in memory" : "decoded every epoch (over --max-memory)",
        source.rows.count - source.trainCount, source.validation.prefixSeconds, source.setupSeconds))
    return prepared
  }
  let inputs = try BlockInputs.compute(
    backbone: backbone, root: command.images, paths: paths, loading: loading, batchSize: command.batchSize,
    threads: command.threads, maxBytes: maxBytes, cacheDirectory: command.cacheDir,
    precision: command.cachePrecision, quiet: command.quiet)
  if let disk = inputs.disk { log("block inputs over --max-memory: kept on disk in \(disk.path)") }
  for (path, reason) in inputs.failed { log("warning: \(path): \(reason) (skipped)") }
  guard !inputs.rows.isEmpty else {
    inputs.removeCache()
    throw FinetuneFailure.usage("--images \(command.images): no usable images")
  }
  // Targets and split by position in the cached inputs.
  var position: [Int: Int] = [:]
  for (i, row) in inputs.rows.enumerated() { position[row] = i }
  let train = split.train.compactMap { position[$0] }
  let val = split.val.compactMap { position[$0] }
  guard !train.isEmpty else {
    inputs.removeCache()
    throw FinetuneFailure.usage("no training images (check the split column)")
  }
  log(
    String(
      format: "block inputs of %d images (%@) computed once: %.1f s in the frozen prefix (%.1f s with decoding); "
        + "recomputing them would cost %.1f s per epoch, %.1f s over %d epochs",
      inputs.rows.count, prefixLayer, inputs.prefixSeconds, inputs.totalSeconds, inputs.prefixSeconds,
      inputs.prefixSeconds * epochs, command.epochs))
  return PreparedInputs(source: inputs, rows: inputs.rows, train: train, val: val, removeCache: inputs.removeCache)
}
