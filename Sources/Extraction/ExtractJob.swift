// One extraction, from options to a finished feature file.
//
// Order of work, so that bad arguments never leave anything behind:
//   1. check every argument and load the weights (errors: `.usage`, nothing written);
//   2. open or create the resume journal `<output>.partial` (a partial made with other settings
//      is refused, naming the setting);
//   3. run the batches the journal does not have yet, decoding batch k+1 while the backbone
//      works on batch k, appending each finished batch to the journal;
//   4. assemble the feature file from the journal under a temporary name, rename it into place,
//      remove the journal.

import Backbones
import Engine
import FeatureStore
import Foundation
import ImageIO
import Support

/// Runs one extraction. Messages go to standard error; the summary is returned.
public func runExtraction(_ options: ExtractOptions) throws -> ExtractSummary {
  let started = Date()
  // 1. Arguments.
  if let size = options.size { try checkInputSize(size, options) }
  guard options.batchSize >= 1 else { throw ExtractError.usage("--batch-size must be at least 1") }
  guard options.threads >= 1 else { throw ExtractError.usage("--threads must be at least 1") }
  guard options.maxPixels >= 1 else { throw ExtractError.usage("--max-pixels must be at least 1") }
  let taps = try options.resolvedTaps()
  let finishedShard = try checkOutputLocation(options)
  let arrayInput = try options.array.map { try ArrayDataset.open($0) }
  let (height, width) = try inputSize(options, array: arrayInput?.images)
  let whole =
    try arrayInput?.dataset
    ?? Dataset.load(root: options.imagesRoot, labels: options.labels, includeHidden: options.includeHidden)
  let dataset = options.shard.map { whole.shard($0) } ?? whole
  let weights = try loadWeights(options.weights, kind: options.backbone)
  let tapWidths = try weights.backbone.tapWidths(taps)
  let dimension = tapWidths.reduce(0, +)
  if let warning = weights.warning { log("warning: " + warning) }
  if let report = weights.report, !options.quiet || !report.unexpectedLayers.isEmpty {
    log("weights: \(weights.file): " + report.summary)
  }

  // 2. Journal.
  let settings = ExtractSettings(
    images: arrayInput.map { "array " + $0.settingDescription }
      ?? URL(fileURLWithPath: options.imagesRoot).standardizedFileURL.path,
    dataset: fingerprint(dataset.paths) + (arrayInput.map { ", " + $0.images.shapeDescription } ?? ""),
    labels: arrayInput.map { "array " + $0.labelsDescription } ?? options.labels.settingDescription,
    backbone: options.backbone.rawValue, weights: weights.file, weightsSHA256: weights.sha256,
    size: "\(height)x\(width)", interpolation: options.interpolation.rawValue,
    exif: options.exif.rawValue, taps: taps, maxPixels: options.maxPixels, batchSize: options.batchSize,
    shard: options.shard?.description)
  let shardInfo = options.shard.map {
    ShardInfo(
      spec: $0, totalImages: whole.paths.count, settingsSHA256: settings.shardSettingsSHA256,
      datasetSHA256: whole.contentsSHA256)
  }
  if let finishedShard {
    // A retried shard (a requeued job, a rerun pod): the same part again changes nothing.
    guard finishedShard == shardInfo else {
      throw ExtractError.usage(
        "--output \(options.output) already exists and is not shard \(options.shard!.description) of this run; "
          + "pass --overwrite to replace it")
    }
    log("\(options.output) already holds shard \(options.shard!.description) of this run; nothing to do")
    let file = try FeatureFile.read(path: options.output, features: false)
    return ExtractSummary(
      total: dataset.paths.count + dataset.missing.count, extracted: file.rowCount, failed: file.failedPaths.count,
      rotated: 0, resumedImages: file.rowCount + file.failedPaths.count, seconds: Date().timeIntervalSince(started),
      output: options.output, skipped: dataset.skipped)
  }
  let journalPath = options.output + ".partial"
  if options.overwrite { unlink(journalPath) }
  let journal: Journal
  do {
    journal = try Journal(path: journalPath, settings: settings.encoded())
  } catch let mismatch as JournalMismatch {
    let stored = try? JSONDecoder().decode(ExtractSettings.self, from: mismatch.storedSettings)
    let difference = stored.map { settings.firstDifference(from: $0) } ?? "its settings are unreadable"
    throw ExtractError.usage(
      "\(journalPath) holds an unfinished run with other settings (\(difference)); rerun with the same "
        + "settings to continue it, or pass --overwrite to start again")
  }

  // 3. Batches.
  let total = dataset.paths.count
  let batchCount = (total + options.batchSize - 1) / options.batchSize
  let pending = (0..<batchCount).filter { journal.recordOffsets[$0] == nil }
  let resumed = (0..<batchCount).filter { journal.recordOffsets[$0] != nil }.reduce(0) {
    $0 + journal.entriesByBatch[$1, default: []].count
  }
  if resumed > 0 { log("resuming: \(resumed) of \(total) images were done by an earlier run") }
  let loading = LoadOptions(
    height: height, width: width, interpolation: options.interpolation, exif: options.exif,
    maxPixels: options.maxPixels)
  let decoder =
    arrayInput.map {
      BatchDecoder(
        array: $0.images, firstRow: options.shard?.rows(of: whole.paths.count).lowerBound ?? 0, options: loading,
        threads: options.threads)
    } ?? BatchDecoder(root: options.imagesRoot, options: loading, threads: options.threads)
  let paths = dataset.paths
  let batchSize = options.batchSize
  let slice: @Sendable (Int) -> ArraySlice<String> = { batch in
    paths[(batch * batchSize)..<min(total, (batch + 1) * batchSize)]
  }
  let progress = ProgressLine(total: total, alreadyDone: resumed, quiet: options.quiet)
  var done = resumed
  progress.update(done: done)
  do {
    try forEachFeatureBatch(
      pending, paths: slice, decoder: decoder, backbone: weights.backbone, taps: taps,
      inspect: { batch in
        guard options.strict, let bad = batch.entries.firstIndex(where: { $0.failure != nil }) else { return }
        progress.finish()
        let path = slice(batch.index)[slice(batch.index).startIndex + bad]
        throw ExtractError.strictStop(
          "--strict: \(path): \(batch.entries[bad].failure ?? ""); the \(done) images before its batch are kept, "
            + "rerun to continue")
      },
      body: { batch, features in
        try features.withUnsafeBufferPointer {
          try journal.append(batch: batch.index, entries: batch.entries, features: $0, dimension: dimension)
        }
        done += batch.entries.count
        progress.update(done: done)
      })
  } catch let error as BatchInputError {
    // The array file broke or changed mid-run: a runtime stop, finished batches kept.
    progress.finish()
    throw ExtractError.runtime("\(error.description); the \(done) images before it are kept, rerun to continue")
  }
  progress.finish()

  // 4. Assemble.
  let counts = try assemble(
    journal: journal, batchCount: batchCount, dataset: dataset, options: options, dimension: dimension,
    attributes: FeatureFileAttributes(
      backbone: options.backbone.rawValue, weightsFile: weights.file, weightsSHA256: weights.sha256,
      height: height, width: width, interpolation: options.interpolation.rawValue,
      preprocessing: "caffe", exif: options.exif.rawValue, taps: taps, tapWidths: tapWidths,
      normalization: "l2 per tap", toolVersion: headstartVersion, warning: weights.warning, shard: shardInfo))
  journal.remove()
  if let warning = weights.warning { log("warning: " + warning) }
  return ExtractSummary(
    total: total + dataset.missing.count, extracted: counts.extracted, failed: counts.failed,
    rotated: counts.rotated, resumedImages: resumed, seconds: Date().timeIntervalSince(started),
    output: options.output, skipped: dataset.skipped)
}

/// Writes the feature file from the journal, atomically.
private func assemble(
  journal: Journal, batchCount: Int, dataset: Dataset, options: ExtractOptions, dimension: Int,
  attributes: FeatureFileAttributes
) throws -> (extracted: Int, failed: Int, rotated: Int) {
  var okRows: [Int] = []
  var failedPaths: [String] = []
  var failedReasons: [String] = []
  var rotated = 0
  do {
    try AtomicFile.replace(options.output) { temporary in
      let usable = journal.entriesByBatch.values.reduce(0) { $0 + $1.filter { $0.failure == nil }.count }
      let writer = try FeatureFileWriter(
        path: temporary, attributes: attributes, dimension: dimension, expectedRows: usable)
      for batch in 0..<batchCount {
        let record = try journal.record(batch: batch)
        for (offset, entry) in record.entries.enumerated() {
          let row = batch * options.batchSize + offset
          if let failure = entry.failure {
            failedPaths.append(dataset.paths[row])
            failedReasons.append(failure)
          } else {
            okRows.append(row)
            if entry.exifOrientation > 1 { rotated += 1 }
          }
        }
        try record.features.withUnsafeBufferPointer { try writer.appendRows($0) }
      }
      for path in dataset.missing {
        failedPaths.append(path)
        failedReasons.append("listed in the labels CSV, but no such file under --images")
      }
      try writer.finish(
        paths: okRows.map { dataset.paths[$0] }, labels: dataset.labels.map { $0.selecting(rows: okRows) },
        failedPaths: failedPaths, failedReasons: failedReasons)
    }
  } catch let error as AtomicReplaceError {
    throw ExtractError.runtime(error.description)
  } catch {
    throw ExtractError.runtime("cannot write \(options.output): \(error)")
  }
  return (okRows.count, failedPaths.count, rotated)
}

/// The backbone must accept the input size; one given with --size is checked before anything
/// is read.
private func checkInputSize(_ size: (height: Int, width: Int), _ options: ExtractOptions) throws {
  do {
    try options.backbone.checkInputSize(height: size.height, width: size.width)
  } catch {
    throw ExtractError.usage("--size: \(error)")
  }
}

/// --size, or without it 224x224 for a folder and the images' own size for an array (which
/// must then suit the backbone and Pillow's pixel limit, as a decoded image must).
private func inputSize(_ options: ExtractOptions, array: ArrayImages?) throws -> (Int, Int) {
  if let array {
    // No overflow: the array's header checked the product of its whole shape, rows included.
    guard array.height * array.width <= options.maxPixels else {
      throw ExtractError.usage(
        "--array \(array.name): images of \(array.height)x\(array.width) pixels exceed --max-pixels \(options.maxPixels)"
      )
    }
  }
  if let size = options.size { return size }
  guard let array else { return (224, 224) }
  do {
    try options.backbone.checkInputSize(height: array.height, width: array.width)
  } catch {
    throw ExtractError.usage(
      "--array \(array.name): the images are \(array.height)x\(array.width), which \(options.backbone.rawValue) "
        + "does not take (\(error)); give --size to resize them, e.g. --size 32x32")
  }
  return (array.height, array.width)
}

/// Refuses to replace a finished output without `--overwrite`, and an unwritable location. For a
/// shard, an existing finished shard file is returned instead (the run then compares it with its
/// own shard and leaves it alone when it is the same part).
private func checkOutputLocation(_ options: ExtractOptions) throws -> ShardInfo? {
  let output = options.output
  var isDirectory: ObjCBool = false
  if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory) {
    if isDirectory.boolValue { throw ExtractError.usage("--output \(output) is a folder") }
    if !options.overwrite {
      if options.shard != nil, let file = try? FeatureFile.read(path: output, features: false), file.complete,
        let shard = file.attributes.shard
      {
        return shard
      }
      throw ExtractError.usage("--output \(output) already exists; pass --overwrite to replace it")
    }
  }
  let parent = URL(fileURLWithPath: output).deletingLastPathComponent().path
  guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
    throw ExtractError.usage("--output \(output): the folder \(parent) does not exist")
  }
  guard access(parent, W_OK) == 0 else {
    throw ExtractError.usage("--output \(output): the folder \(parent) is not writable")
  }
  return nil
}

/// "240 files, 3f2a…": changes when a file is added, removed or renamed.
private func fingerprint(_ paths: [String]) -> String {
  var hasher = SHA256()
  for path in paths {
    Array(path.utf8 + [0]).withUnsafeBytes { hasher.update($0) }
  }
  return "\(paths.count) files, " + hasher.finalizeHex().prefix(16)
}

func log(_ message: String) {
  FileHandle.standardError.write(Data((message + "\n").utf8))
}

extension LabelColumn {
  /// The column restricted to the given rows, in that order.
  func selecting(rows: [Int]) -> LabelColumn {
    switch self {
    case .categorical(let name, let classes, let indices):
      return .categorical(name: name, classes: classes, indices: rows.map { indices[$0] })
    case .numeric(let name, let values):
      return .numeric(name: name, values: rows.map { values[$0] })
    }
  }
}
