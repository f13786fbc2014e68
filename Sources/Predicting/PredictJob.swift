// One prediction run, from options to a finished predictions file.
//
// Order of work, so that bad arguments never leave anything behind:
//   1. check every argument, list the images, read the heads file and load the weights it was
//      trained with (errors: `.usage`, nothing written);
//   2. run extract's pipeline (decoder threads, batched forward pass, pooling and L2 per tap) over
//      the images in sorted order, apply the heads to each batch's features and write its lines
//      to `<output>.writing`;
//   3. rename the finished file into place.
// An image that cannot be used is a line with status `failed` and its reason, never a stop.

import Extraction
import FeatureStore
import Foundation
import Heads
import Support

/// Runs one prediction. Progress and warnings go to standard error; lines go to `options.output`,
/// or to `standardOutput` when it is nil.
public func runPrediction(
  _ options: PredictOptions, standardOutput: FileHandle = .standardOutput
) throws -> PredictSummary {
  let started = Date()
  // 1. Arguments.
  guard options.batchSize >= 1 else { throw PredictError.usage("--batch-size must be at least 1") }
  guard options.threads >= 1 else { throw PredictError.usage("--threads must be at least 1") }
  let format = try options.resolvedFormat()
  if let output = options.output { try checkOutputLocation(output) }
  let arrayInput: ArrayDataset?
  do {
    arrayInput = try options.array.map { try ArrayDataset.open(ArrayInput(location: $0), withLabels: false) }
  } catch let error as ExtractError {
    throw PredictError.usage(error.description)
  }
  let images =
    try arrayInput.map { ImageList(root: "", paths: $0.dataset.paths) }
    ?? ImageList.collect(options.images, includeHidden: options.includeHidden)
  let model = try PredictionModel.load(heads: options.heads, weights: options.weights)
  if let warning = model.heads.provenance.warning, !options.quiet { log("warning: " + warning) }

  // 2. Batches.
  let sink = try PredictionSink(output: options.output, standardOutput: standardOutput)
  let formatter = PredictionFormatter(heads: model.heads, format: format)
  let heads = model.heads
  let headModel = heads.model
  let paths = options.shard.map { Array(images.paths[$0.rows(of: images.paths.count)]) } ?? images.paths
  let total = paths.count
  let batchSize = options.batchSize
  let slice: @Sendable (Int) -> ArraySlice<String> = { batch in
    paths[(batch * batchSize)..<min(total, (batch + 1) * batchSize)]
  }
  let decoder =
    arrayInput.map {
      BatchDecoder(
        array: $0.images, firstRow: options.shard?.rows(of: images.paths.count).lowerBound ?? 0,
        options: model.loading, threads: options.threads)
    } ?? BatchDecoder(root: images.root, options: model.loading, threads: options.threads)
  let progress = ProgressLine(total: total, alreadyDone: 0, quiet: options.quiet)
  var done = 0
  var failed = 0
  do {
    if (options.shard?.index ?? 0) == 0 { try sink.write(formatter.header) }
    try forEachFeatureBatch(
      Array(0..<((total + batchSize - 1) / batchSize)), paths: slice, decoder: decoder,
      backbone: model.backbone, taps: model.taps
    ) { batch, features in
      let usable = batch.usable
      let predictions =
        usable > 0 ? readHeads(heads, outputs: headModel.predict(features: features), rows: usable) : []
      var next = 0
      var text = ""
      for (path, entry) in zip(slice(batch.index), batch.entries) {
        if let failure = entry.failure {
          text += formatter.line(PredictionRecord(path: path, failure: failure, heads: []))
          failed += 1
        } else {
          text += formatter.line(PredictionRecord(path: path, failure: nil, heads: predictions[next]))
          next += 1
        }
      }
      try sink.write(text)
      done += batch.entries.count
      progress.update(done: done)
    }
  } catch {
    progress.finish()
    sink.discard()
    throw error as? PredictError ?? .runtime("\(error)")
  }
  progress.finish()
  try sink.finish()
  return PredictSummary(
    total: total, predicted: total - failed, failed: failed, seconds: Date().timeIntervalSince(started),
    output: options.output, skipped: images.skipped)
}

/// Where the lines go: a temporary file renamed into place at the end, or standard output.
private final class PredictionSink {
  private let output: String?
  private let handle: FileHandle
  private var temporary: String? { output.map(AtomicFile.temporaryPath) }

  init(output: String?, standardOutput: FileHandle) throws {
    self.output = output
    guard let output else {
      handle = standardOutput
      return
    }
    let temporary = AtomicFile.temporaryPath(for: output)
    guard FileManager.default.createFile(atPath: temporary, contents: nil),
      let handle = FileHandle(forWritingAtPath: temporary)
    else { throw PredictError.runtime("cannot write \(temporary)") }
    self.handle = handle
  }

  func write(_ text: String) throws {
    do {
      try handle.write(contentsOf: Data(text.utf8))
    } catch {
      throw PredictError.runtime("cannot write \(temporary ?? "standard output"): \(error)")
    }
  }

  func finish() throws {
    guard let output, let temporary else { return }
    try? handle.close()
    do {
      try AtomicFile.commit(temporary, to: output)
    } catch let error as AtomicReplaceError {
      throw PredictError.runtime(error.description)
    }
  }

  func discard() {
    guard let temporary else { return }
    try? handle.close()
    unlink(temporary)
  }
}

/// Refuses an output that is a folder or sits in a folder that does not exist or is not writable.
private func checkOutputLocation(_ output: String) throws {
  var isDirectory: ObjCBool = false
  if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), isDirectory.boolValue {
    throw PredictError.usage("--output \(output) is a folder")
  }
  let parent = URL(fileURLWithPath: output).deletingLastPathComponent().path
  guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
    throw PredictError.usage("--output \(output): the folder \(parent) does not exist")
  }
  guard access(parent, W_OK) == 0 else {
    throw PredictError.usage("--output \(output): the folder \(parent) is not writable")
  }
}

private func log(_ message: String) {
  FileHandle.standardError.write(Data((message + "\n").utf8))
}
