// The frozen prefix runs once: without pixel augmentation its output (the trained block's input,
// NHWC (N, h, w, c), e.g. ResNet50's conv4_block6_out (N, 14, 14, 1024) at 224) is the same
// every epoch, so every image goes through it once and the epochs train the last block alone.
//
// --cache-precision float16 keeps them as IEEE binary16 (Swift's Float16, rounded to nearest even;
// on disk the half type h5py reads as float16): half the memory and disk, at a relative rounding
// error of at most 2^-11 on the block's input, so training then differs slightly from Keras'.
// Float16 ends at 65504, and a prefix with random weights reaches 10^5 and more (ReLU residual
// stages grow without trained batch norm), so each image is stored divided by a power of two
// that brings its largest magnitude to at most 2^15: exact (only the exponent moves), and 1 (no
// scaling) for the activations of trained weights.

import Backbones
import Extraction
import Finetuning
import Foundation
import HDF5
import ImageIO
import Support

/// The checkpoint fingerprint's line for the cache precision: float16 changes the arithmetic, so
/// its checkpoints are not continued at float32 or the reverse; float32 adds nothing, so
/// checkpoints from before the option existed stay valid.
func cachePrecisionFingerprint(_ precision: CachePrecision) -> String {
  precision == .float16 ? "\ncache-precision=float16" : ""
}

/// The block input of every usable image, rows in dataset order: in memory, or (over
/// --max-memory) in an HDF5 file under --cache-dir, (N, h*w*c) float32 or float16, one chunk per
/// image, read back image by image for each batch. Beside it, from the same pass, the fixed
/// features of heads on taps before the block (FeatureRow), always in memory at float32: a few
/// hundred values per image, exactly what `extract` stores for those taps.
struct BlockInputs {
  /// (N, h, w, c) NHWC float32, when in memory at float32.
  var values: [Float]
  /// (N, h, w, c) NHWC float16, when in memory at float16: each image divided by its `scales`.
  var halves: [Float16]
  /// (N) the power of two each image's float16 values are multiplied by when read (float16 only).
  var scales: [Float]
  /// How the values are kept, in memory and on disk.
  var precision: HDF5FloatStorage
  /// The spilled block inputs and their file (removed when the run ends), else nil.
  var disk: (dataset: HDF5Dataset, file: HDF5File, path: String)?
  /// Values per image: h x w x c.
  var stride: Int
  /// (N, fixedWidth) the pooled, L2-normalised features of the row's fixed taps; empty without.
  var fixed: [Float] = []
  /// Values per image of `fixed`.
  var fixedWidth = 0
  /// Dataset rows (indices into the dataset's paths) of the N images, in order.
  var rows: [Int]
  /// Images that could not be decoded, with the reason.
  var failed: [(path: String, reason: String)]
  /// Seconds spent in the prefix (decoding excluded): what every epoch would spend again
  /// without the cache.
  var prefixSeconds: Double
  /// Seconds of the whole pass, decoding included.
  var totalSeconds: Double

  /// Decodes `paths` (relative to `root`) batch by batch and runs the frozen prefix.
  static func compute(
    backbone: Backbone, root: String, paths: [String], loading: LoadOptions, batchSize: Int, threads: Int,
    maxBytes: Int, cacheDirectory: String?, precision: HDF5FloatStorage = .float32, row: FeatureRow? = nil,
    quiet: Bool
  ) throws -> BlockInputs {
    let shape = try LastBlock.inputShape(backbone.kind, height: loading.height, width: loading.width)
    let perImage = shape.height * shape.width * shape.channels
    let bytesPerValue = precision == .float16 ? MemoryLayout<Float16>.size : MemoryLayout<Float>.size
    let needed = paths.count * perImage * bytesPerValue
    var result = BlockInputs(
      values: [], halves: [], scales: [], precision: precision, disk: nil, stride: perImage, rows: [], failed: [],
      prefixSeconds: 0, totalSeconds: 0)
    result.fixedWidth = row?.fixedWidth ?? 0
    if needed > maxBytes {
      guard let cacheDirectory else {
        throw FinetuneFailure.usage(
          "the block inputs of \(paths.count) images need \(needed / 1_048_576) MiB, over --max-memory "
            + "(\(maxBytes / 1_048_576) MiB); raise it, or give --cache-dir to keep them on disk")
      }
      let path = cacheDirectory + "/finetune-block-inputs-\(getpid()).h5"
      do {
        let file = try HDF5File.create(path: path)
        let dataset = try file.createExtendableDataset(
          "block_inputs", columns: perImage, chunkRows: 1, storage: precision)
        result.disk = (dataset, file, path)
      } catch {
        throw FinetuneFailure.usage("--cache-dir \(cacheDirectory): cannot write \(path) (\(error))")
      }
    } else if precision == .float16 {
      result.halves.reserveCapacity(paths.count * perImage)
    } else {
      result.values.reserveCapacity(paths.count * perImage)
    }
    let decoder = BatchDecoder(root: root, options: loading, threads: threads)
    let progress = ProgressLine(total: paths.count, alreadyDone: 0, quiet: quiet)
    let start = Date()
    for (batch, first) in Swift.stride(from: 0, to: paths.count, by: batchSize).enumerated() {
      let slice = paths[first..<min(first + batchSize, paths.count)]
      let decoded = decoder.decode(paths: slice, batch: batch)
      for (offset, entry) in decoded.entries.enumerated() {
        if let failure = entry.failure {
          result.failed.append((slice[slice.startIndex + offset], failure))
        } else {
          result.rows.append(first + offset)
        }
      }
      if decoded.usable > 0 {
        let prefixStart = Date()
        let (output, fixed) = try decoded.input.withUnsafeBufferPointer {
          try LastBlock.input(
            backbone, images: $0, count: decoded.usable, height: loading.height, width: loading.width, row: row)
        }
        result.fixed += fixed
        result.prefixSeconds += Date().timeIntervalSince(prefixStart)
        switch (result.disk, precision) {
        case (let disk?, .float32): try output.withUnsafeBufferPointer { try disk.dataset.appendRows($0) }
        case (let disk?, .float16):
          let (halves, scales) = narrow(output, stride: perImage)
          try halves.withUnsafeBufferPointer { try disk.dataset.appendRows($0) }
          result.scales += scales
        case (nil, .float32): result.values += output
        case (nil, .float16):
          let (halves, scales) = narrow(output, stride: perImage)
          result.halves += halves
          result.scales += scales
        }
      }
      progress.update(done: first + slice.count)
    }
    progress.finish()
    result.totalSeconds = Date().timeIntervalSince(start)
    return result
  }

  /// The block inputs of `positions` (indices into `rows`), packed in that order.
  func gather(_ positions: ArraySlice<Int>) throws -> [Float] {
    var out = [Float](repeating: 0, count: positions.count * stride)
    if let disk, precision == .float16 {
      var row = [Float16](repeating: 0, count: stride)
      for (i, position) in positions.enumerated() {
        try row.withUnsafeMutableBufferPointer { try disk.dataset.readRows(position..<(position + 1), into: $0) }
        widen(row[...], scale: scales[position], into: &out, at: i * stride)
      }
      return out
    }
    if let disk {
      try out.withUnsafeMutableBufferPointer { destination in
        for (i, position) in positions.enumerated() {
          try disk.dataset.readRows(
            position..<(position + 1), into: UnsafeMutableBufferPointer(rebasing: destination[(i * stride)...]))
        }
      }
      return out
    }
    if precision == .float16 {
      for (i, position) in positions.enumerated() {
        widen(
          halves[(position * stride)..<((position + 1) * stride)], scale: scales[position], into: &out,
          at: i * stride)
      }
      return out
    }
    out.withUnsafeMutableBufferPointer { destination in
      values.withUnsafeBufferPointer { source in
        for (i, position) in positions.enumerated() {
          let from = source.baseAddress! + position * stride
          (destination.baseAddress! + i * stride).update(from: from, count: stride)
        }
      }
    }
    return out
  }

  /// The fixed features of `positions` (indices into `rows`), packed in that order.
  func gatherFixed(_ positions: ArraySlice<Int>) -> [Float] {
    guard fixedWidth > 0 else { return [] }
    var out: [Float] = []
    out.reserveCapacity(positions.count * fixedWidth)
    for position in positions { out += fixed[(position * fixedWidth)..<((position + 1) * fixedWidth)] }
    return out
  }

  /// Every block input (N, h, w, c), read back from disk when spilled.
  func all() throws -> [Float] {
    disk == nil && precision == .float32 ? values : try gather(Array(rows.indices)[...])
  }

  /// Writes `source` times `scale` as Float at `out[offset...]` (exact: every binary16 value
  /// widens exactly, and `scale` is a power of two).
  private func widen(_ source: ArraySlice<Float16>, scale: Float, into out: inout [Float], at offset: Int) {
    out.withUnsafeMutableBufferPointer { destination in
      source.withUnsafeBufferPointer { halves in
        for j in 0..<halves.count { destination[offset + j] = Float(halves[j]) * scale }
      }
    }
  }

  /// Images of `stride` values each, as float16 divided by a per-image power of two (returned)
  /// that keeps the largest finite magnitude at or below 2^15, inside float16's range (65504).
  static func narrow(_ values: [Float], stride: Int) -> (halves: [Float16], scales: [Float]) {
    var halves = [Float16](repeating: 0, count: values.count)
    var scales: [Float] = []
    for start in Swift.stride(from: 0, to: values.count, by: stride) {
      let image = values[start..<(start + stride)]
      let largest = image.reduce(Float(0)) { $1.isFinite ? max($0, abs($1)) : $0 }
      // The smallest k with largest / 2^k <= 2^15.
      let k = largest > 32768 ? Int((largest / 32768).exponent) + ((largest / 32768).significand > 1 ? 1 : 0) : 0
      let scale = Float(sign: .plus, exponent: k, significand: 1)
      scales.append(scale)
      for j in image.indices { halves[j] = Float16(values[j] / scale) }
    }
    return (halves, scales)
  }

  /// Removes the spilled file, if any.
  func removeCache() {
    if let disk { try? FileManager.default.removeItem(atPath: disk.path) }
  }
}
