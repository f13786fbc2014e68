// Where the epochs take each batch's block inputs from. Without augmentation: the cache
// (BlockInputs), the frozen prefix having run once. With augmentation: the training images,
// decoded once and kept (or decoded again each epoch when they do not fit), are augmented with
// a fresh draw per image and epoch and sent through the frozen prefix for every batch; the
// validation images are never augmented, so their block inputs are cached as without.
//
// Positions index the run's usable images in the targets' order; block inputs are NHWC
// (B, h, w, c), images (B, H, W, 3).

import Backbones
import Extraction
import Finetuning
import Foundation
import ImageIO
import Support

/// A batch's block inputs (B, h, w, c) and the fixed features of its taps before the block
/// (B, FeatureRow.fixedWidth; empty without such taps), from the same frozen-prefix pass.
struct BatchInput {
  var block: [Float]
  var fixed: [Float]
}

protocol BlockInputSource {
  /// The inputs of training `positions` in epoch `epoch` (0-based).
  func trainingInput(_ positions: [Int], epoch: Int) throws -> BatchInput
  /// The inputs of validation `positions` (never augmented).
  func validationInput(_ positions: [Int]) throws -> BatchInput
  /// What the epoch that just ended spent making its inputs, for its log line ("" when it only
  /// read the cache); the next epoch counts from zero.
  func endEpoch() -> String
}

extension BlockInputs: BlockInputSource {
  func trainingInput(_ positions: [Int], epoch: Int) throws -> BatchInput {
    BatchInput(block: try gather(positions[...]), fixed: gatherFixed(positions[...]))
  }
  func validationInput(_ positions: [Int]) throws -> BatchInput {
    BatchInput(block: try gather(positions[...]), fixed: gatherFixed(positions[...]))
  }
  func endEpoch() -> String { "" }
}

/// Training images augmented every epoch; validation block inputs cached. Position p is the
/// training image `trainRows[p]` when p < trainRows.count, else validation image
/// p - trainRows.count (`validation.rows` order).
final class AugmentedBlockInputs: BlockInputSource {
  let backbone: Backbone
  let augmentation: SeededAugmentation
  let height: Int
  let width: Int
  let threads: Int
  let quiet: Bool
  /// The heads' row: its fixed taps are pooled from the same prefix pass (nil: none).
  let row: FeatureRow?
  /// Dataset rows of the usable images in position order: training, then validation.
  let rows: [Int]
  let trainCount: Int
  /// Images that could not be decoded, with the reason.
  let failed: [(path: String, reason: String)]
  /// The validation images' block inputs (rows index `validationPaths`).
  let validation: BlockInputs
  /// (trainCount, H, W, 3) RGB when the training images fit in memory, else empty (decoded again
  /// for every batch).
  private let images: [UInt8]
  let keptInMemory: Bool
  private let decoder: BatchDecoder
  private let paths: [String]
  /// Seconds of the first pass (decoding the training images, the validation block inputs).
  let setupSeconds: Double

  private var prefixSeconds = 0.0
  private var pixelSeconds = 0.0
  private var done = 0
  private var progress: ProgressLine?

  /// Decodes the training rows `trainRows` of `paths` (relative to `root`) once, to learn which
  /// are usable and to keep them when they fit beside the validation block inputs in `maxBytes`,
  /// and computes the validation rows' block inputs (spilled under `cacheDirectory` as the cache
  /// would be).
  init(
    backbone: Backbone, augmentation: SeededAugmentation, root: String, paths: [String], trainRows: [Int],
    valRows: [Int], loading: LoadOptions, batchSize: Int, threads: Int, maxBytes: Int, cacheDirectory: String?,
    precision: CachePrecision = .float32, row: FeatureRow? = nil, quiet: Bool
  ) throws {
    let start = Date()
    self.backbone = backbone
    self.augmentation = augmentation
    (height, width) = (loading.height, loading.width)
    self.threads = threads
    self.quiet = quiet
    self.row = row
    self.paths = paths
    decoder = BatchDecoder(root: root, options: loading, threads: threads, pixels: .rgb)
    validation = try BlockInputs.compute(
      backbone: backbone, root: root, paths: valRows.map { paths[$0] }, loading: loading, batchSize: batchSize,
      threads: threads, maxBytes: maxBytes, cacheDirectory: cacheDirectory, precision: precision, row: row,
      quiet: quiet)
    let perImage = loading.height * loading.width * 3
    let validationBytes =
      validation.values.count * MemoryLayout<Float>.size + validation.halves.count * MemoryLayout<Float16>.size
    keptInMemory = trainRows.count * perImage <= maxBytes - validationBytes
    var usable: [Int] = []
    var failed = validation.failed
    var images: [UInt8] = []
    if keptInMemory { images.reserveCapacity(trainRows.count * perImage) }
    for first in stride(from: 0, to: trainRows.count, by: batchSize) {
      let slice = trainRows[first..<min(first + batchSize, trainRows.count)]
      let decoded = decoder.decode(paths: slice.map { paths[$0] }[...], batch: first / batchSize)
      for (row, entry) in zip(slice, decoded.entries) {
        if let failure = entry.failure { failed.append((paths[row], failure)) } else { usable.append(row) }
      }
      // Whole values 0...255: the bytes round-trip exactly.
      if keptInMemory { images += decoded.input.map { UInt8($0) } }
    }
    self.images = images
    self.failed = failed
    trainCount = usable.count
    rows = usable + validation.rows.map { valRows[$0] }
    setupSeconds = Date().timeIntervalSince(start)
  }

  func trainingInput(_ positions: [Int], epoch: Int) throws -> BatchInput {
    let start = Date()
    if progress == nil { progress = ProgressLine(total: trainCount, alreadyDone: 0, quiet: quiet) }
    let perImage = height * width * 3
    var rgb: [Float]  // (B, H, W, 3) RGB 0...255
    if keptInMemory {
      rgb = [Float](repeating: 0, count: positions.count * perImage)
      for (i, position) in positions.enumerated() {
        precondition(position < trainCount, "position \(position) is not a training image")
        for k in 0..<perImage { rgb[i * perImage + k] = Float(images[position * perImage + k]) }
      }
    } else {
      let decoded = decoder.decode(paths: positions.map { paths[rows[$0]] }[...], batch: 0)
      if let bad = decoded.entries.firstIndex(where: { $0.failure != nil }) {
        throw FinetuneFailure(
          description: "\(paths[rows[positions[bad]]]) decoded before but not now: "
            + (decoded.entries[bad].failure ?? ""),
          exitCode: 1)
      }
      rgb = decoded.input
    }
    let images = rgb.withUnsafeBufferPointer {
      augmentedCaffeBatch(
        rgb: $0, rows: positions.map { rows[$0] }, epoch: epoch, augmentation: augmentation, height: height,
        width: width, threads: threads)
    }
    let prefixStart = Date()
    pixelSeconds += prefixStart.timeIntervalSince(start)
    // One pass: the block input and the fixed taps of the same augmented images.
    let (block, fixed) = try images.withUnsafeBufferPointer {
      try LastBlock.input(backbone, images: $0, count: positions.count, height: height, width: width, row: row)
    }
    prefixSeconds += Date().timeIntervalSince(prefixStart)
    done += positions.count
    progress?.update(done: done)
    return BatchInput(block: block, fixed: fixed)
  }

  func validationInput(_ positions: [Int]) throws -> BatchInput {
    try validation.validationInput(positions.map { $0 - trainCount })
  }

  func endEpoch() -> String {
    progress?.finish()
    defer { (prefixSeconds, pixelSeconds, done, progress) = (0, 0, 0, nil) }
    return String(
      format: "frozen prefix %.1f s, %@ and augmenting %.1f s", prefixSeconds,
      keptInMemory ? "copying" : "decoding", pixelSeconds)
  }

  /// Removes the validation block inputs' file, if spilled.
  func removeCache() { validation.removeCache() }
}
