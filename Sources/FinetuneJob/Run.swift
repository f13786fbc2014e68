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
import Support

public func runFinetune(_ options: FinetuneOptions, log: (String) -> Void) throws {
  let recipe = try readRecipe(headsPath: options.heads)
  let trainable = try unfrozenLayers(options.unfreeze, kind: recipe.kind, bn: options.bn)
  let fixedHeads = recipe.fixedInputHeads.map { "head '\($0.head)' on \($0.taps.joined(separator: "+"))" }
  if !fixedHeads.isEmpty {
    log(
      "fixed input: \(fixedHeads.joined(separator: ", ")) (before the trained block): the input comes from the "
        + "frozen prefix as extract computes it; only the head's own weights train")
  }
  for spec in recipe.heads.specs where spec.dropout > 0 {
    log(
      "note: head '\(spec.name)' trained with dropout \(spec.dropout) in fit-heads; finetune trains it without "
        + "dropout")
  }
  let source: LabelSource =
    if let csv = options.labels { .csv(csv) } else if let columns = options.dirLabels {
      .splitFolders(columns)
    } else { .folders }
  let dataset: Dataset
  do {
    dataset = try Dataset.load(root: options.images, labels: source, includeHidden: options.includeHidden)
  } catch let error as ExtractError {
    throw FinetuneFailure.usage(error.description)
  }
  if !dataset.skipped.isEmpty { log("--images \(options.images): " + dataset.skipped.clauses.joined(separator: "; ")) }
  guard !dataset.paths.isEmpty else { throw FinetuneFailure.usage("--images \(options.images): no images") }
  let rowTargets = try headTargets(recipe.heads, labels: dataset.labels)
  let start = try identifyStartWeights(options.weights, recipe: recipe, headsPath: options.heads)
  let headsDigest = try SHA256.hexDigest(ofFile: options.heads)
  let augmentation = SeededAugmentation(settings: options.augmentation, seed: options.augmentSeed)
  // The split and shuffling seed: by default the one fit-heads used, so that the same
  // --val-split and labels give the rows the heads were validated on.
  let shuffleSeed = options.shuffleSeed ?? recipe.heads.training.seed

  // The arguments that decide the result; threads, memory, quiet and the test flags do not.
  // Settings that change no pixel leave the fingerprint as it was before augmentation existed.
  var fingerprintLines = [
    "images=\(options.images)", "labels=\(options.labels ?? "")",
    "dir-labels=\(options.dirLabels?.joined(separator: ",") ?? "")",
    "heads=\(headsDigest)", "weights=\(start.file) \(start.sha256)", "epochs=\(options.epochs)",
    "batch-size=\(options.batchSize)", "optimizer=\(options.optimizer)",
    "learning-rate=\(options.learningRate.map { "\($0)" } ?? "default")", "bn=\(options.bn)",
    "unfreeze=\(options.unfreeze)", "val-split=\(options.valSplit)", "shuffle-seed=\(shuffleSeed)",
    "patience=\(options.patience)", "images-count=\(dataset.paths.count)",
  ]
  // Listed only when set, so runs from before the option keep their fingerprint.
  if options.includeHidden { fingerprintLines.append("include-hidden=true") }
  if !augmentation.settings.isIdentity {
    fingerprintLines += ["augmentation=\(augmentation.settings.summary)", "augment-seed=\(augmentation.seed)"]
  }
  let fingerprint = fingerprintLines.joined(separator: "\n") + cachePrecisionFingerprint(options.cachePrecision)
  let checkpointPath = options.output + ".partial"
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
  // fit-heads' rule (Heads/RowSplit.swift) over the images whose block inputs exist, checked
  // against the validation rows the heads file records.
  let strata = stratificationColumn(
    heads: recipe.heads.specs.map { ($0.kind.rawValue, recipe.heads.columns[$0.name] ?? "") },
    labels: dataset.labels)
  let recorded = recipe.heads.training.validationRows
  var validationRows = recorded
  let split = { (rows: [Int]) throws -> RowSplit in
    let split = splitRows(
      rows, labels: dataset.labels, valSplit: options.valSplit, seed: shuffleSeed, strata: strata)
    let ours = validationRowsRecord(paths: split.val.map { dataset.paths[$0] })
    guard recorded.isEmpty || ours == recorded else {
      throw FinetuneFailure.usage(
        "the heads in \(options.heads) were validated on other rows (\(recorded); here \(ours)): use the seed, "
          + "--val-split and labels fit-heads used (a `split` column makes this explicit)")
    }
    validationRows = ours
    return split
  }
  let inputs = try prepareInputs(
    options, augmentation: augmentation, backbone: backbone, loading: recipe.loading, row: recipe.row,
    paths: dataset.paths, split: split, log: log)
  defer { inputs.removeCache() }
  let targets = zip(rowTargets, recipe.heads.specs).map { $0.gathering(rows: inputs.rows, width: $1.targetWidth) }

  let optimizer = try finetuneOptimizer(options.optimizer, learningRate: options.learningRate)
  let batchNorm: FinetuneBatchNorm =
    switch options.bn {
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
      row: recipe.row, height: height, width: width)
  } catch let error as FinetuneError {
    throw FinetuneFailure.usage("--heads \(options.heads): \(error)")
  }
  if let checkpoint { trainer.optimizerStates = checkpoint.optimizers }

  let outcome = try runEpochs(
    trainer,
    setup: TrainingSetup(
      kind: kind, source: inputs.source, targets: targets, specs: recipe.heads.specs,
      classNames: recipe.heads.classNames,
      labelRanges: recipe.heads.labelRanges, train: inputs.train, val: inputs.val, epochs: options.epochs,
      batchSize: options.batchSize, seed: shuffleSeed, patience: options.patience,
      checkpointPath: checkpointPath, fingerprint: fingerprint, stopAfter: options.stopAfterEpochs,
      quiet: options.quiet),
    checkpoint: checkpoint, log: log)
  guard outcome.finished else {
    log("stopped after epoch \(outcome.epochsRun); rerun the same command to continue from \(checkpointPath)")
    return
  }

  var modelWeights = startWeights
  for (layer, arrays) in outcome.block.layers { modelWeights.layers[layer] = arrays }
  let headsPath = try export(
    modelWeights, kind: kind, heads: recipe.heads, parameters: outcome.heads, outcome: outcome, options: options,
    optimizer: optimizer, seed: shuffleSeed, validationRows: validationRows)
  if let path = options.trainerPredictions {
    let all =
      try (inputs.source as? BlockInputs)
      ?? BlockInputs.compute(
        backbone: backbone, root: options.images, paths: dataset.paths, loading: recipe.loading,
        batchSize: options.batchSize, threads: options.threads, maxBytes: Int.max, cacheDirectory: nil,
        row: recipe.row, quiet: true)
    try writeTrainerPredictions(
      path, kind: kind, weights: modelWeights, heads: recipe.heads, parameters: outcome.heads, inputs: all,
      row: recipe.row, paths: dataset.paths, height: height, width: width)
  }
  try? FileManager.default.removeItem(atPath: checkpointPath)
  log(
    "best epoch \(outcome.bestEpoch) of \(outcome.epochsRun) -> \(options.output) (backbone, Keras legacy layout) "
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
  _ options: FinetuneOptions, augmentation: SeededAugmentation, backbone: Backbone, loading: LoadOptions,
  row: FeatureRow, paths: [String],
  split: ([Int]) throws -> RowSplit, log: (String) -> Void
) throws -> PreparedInputs {
  let maxBytes = options.maxMemory
  let epochs = Double(options.epochs)
  let prefixLayer = LastBlock.inputLayer(backbone.kind)
  if !augmentation.settings.isIdentity {
    // Which images fail to decode is not known yet: the split is over all of them.
    let split = try split(Array(paths.indices))
    let source = try AugmentedBlockInputs(
      backbone: backbone, augmentation: augmentation, root: options.images, paths: paths, trainRows: split.train,
      valRows: split.val, loading: loading, batchSize: options.batchSize, threads: options.threads,
      maxBytes: maxBytes, cacheDirectory: options.cacheDirectory, precision: options.cachePrecision, row: row,
      quiet: options.quiet)
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
    backbone: backbone, root: options.images, paths: paths, loading: loading, batchSize: options.batchSize,
    threads: options.threads, maxBytes: maxBytes, cacheDirectory: options.cacheDirectory,
    precision: options.cachePrecision, row: row, quiet: options.quiet)
  if let disk = inputs.disk { log("block inputs over --max-memory: kept on disk in \(disk.path)") }
  for (path, reason) in inputs.failed { log("warning: \(path): \(reason) (skipped)") }
  guard !inputs.rows.isEmpty else {
    inputs.removeCache()
    throw FinetuneFailure.usage("--images \(options.images): no usable images")
  }
  // The split over the images whose block inputs exist (the rows a feature file has), by
  // position in the cached inputs.
  let rowSplit: RowSplit
  do {
    rowSplit = try split(inputs.rows)
  } catch {
    inputs.removeCache()
    throw error
  }
  var position: [Int: Int] = [:]
  for (i, row) in inputs.rows.enumerated() { position[row] = i }
  let train = rowSplit.train.compactMap { position[$0] }
  let val = rowSplit.val.compactMap { position[$0] }
  guard !train.isEmpty else {
    inputs.removeCache()
    throw FinetuneFailure.usage("no training images (check the split column)")
  }
  log(
    String(
      format: "block inputs of %d images (%@) computed once: %.1f s in the frozen prefix (%.1f s with decoding); "
        + "recomputing them would cost %.1f s per epoch, %.1f s over %d epochs",
      inputs.rows.count, prefixLayer, inputs.prefixSeconds, inputs.totalSeconds, inputs.prefixSeconds,
      inputs.prefixSeconds * epochs, options.epochs))
  return PreparedInputs(source: inputs, rows: inputs.rows, train: train, val: val, removeCache: inputs.removeCache)
}
