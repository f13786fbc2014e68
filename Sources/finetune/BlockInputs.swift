// The frozen prefix runs once: without pixel augmentation its output (the trained block's input,
// NHWC (N, h, w, c), e.g. ResNet50's conv4_block6_out (N, 14, 14, 1024) at 224) is the same
// every epoch, so every image goes through it once and the epochs train the last block alone.

import Backbones
import Extraction
import Finetuning
import Foundation
import HDF5
import ImageIO

/// The block input of every usable image, rows in dataset order: in memory, or (over
/// --max-memory) in an HDF5 file under --cache-dir, float32 (N, h*w*c), one chunk per image,
/// read back image by image for each batch.
struct BlockInputs {
  /// (N, h, w, c) NHWC float32, when in memory.
  var values: [Float]
  /// The spilled block inputs and their file (removed when the run ends), else nil.
  var disk: (dataset: HDF5Dataset, file: HDF5File, path: String)?
  /// Values per image: h x w x c.
  var stride: Int
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
    maxBytes: Int, cacheDirectory: String?, quiet: Bool
  ) throws -> BlockInputs {
    let shape = try LastBlock.inputShape(backbone.kind, height: loading.height, width: loading.width)
    let perImage = shape.height * shape.width * shape.channels
    let needed = paths.count * perImage * MemoryLayout<Float>.size
    var result = BlockInputs(
      values: [], disk: nil, stride: perImage, rows: [], failed: [], prefixSeconds: 0, totalSeconds: 0)
    if needed > maxBytes {
      guard let cacheDirectory else {
        throw FinetuneFailure.usage(
          "the block inputs of \(paths.count) images need \(needed / 1_048_576) MiB, over --max-memory "
            + "(\(maxBytes / 1_048_576) MiB); raise it, or give --cache-dir to keep them on disk")
      }
      let path = cacheDirectory + "/finetune-block-inputs-\(getpid()).h5"
      do {
        let file = try HDF5File.create(path: path)
        let dataset = try file.createExtendableDataset("block_inputs", columns: perImage, chunkRows: 1)
        result.disk = (dataset, file, path)
      } catch {
        throw FinetuneFailure.usage("--cache-dir \(cacheDirectory): cannot write \(path) (\(error))")
      }
    } else {
      result.values.reserveCapacity(paths.count * perImage)
    }
    let decoder = BatchDecoder(root: root, options: loading, threads: threads)
    let progress = Progress(total: paths.count, alreadyDone: 0, quiet: quiet)
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
        let output = try decoded.input.withUnsafeBufferPointer {
          try LastBlock.input(
            backbone, images: $0, count: decoded.usable, height: loading.height, width: loading.width)
        }
        result.prefixSeconds += Date().timeIntervalSince(prefixStart)
        if let disk = result.disk {
          try output.withUnsafeBufferPointer { try disk.dataset.appendRows($0) }
        } else {
          result.values += output
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
    if let disk {
      try out.withUnsafeMutableBufferPointer { destination in
        for (i, position) in positions.enumerated() {
          try disk.dataset.readRows(
            position..<(position + 1), into: UnsafeMutableBufferPointer(rebasing: destination[(i * stride)...]))
        }
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

  /// Every block input (N, h, w, c), read back from disk when spilled.
  func all() throws -> [Float] {
    disk == nil ? values : try gather(Array(rows.indices)[...])
  }

  /// Removes the spilled file, if any.
  func removeCache() {
    if let disk { try? FileManager.default.removeItem(atPath: disk.path) }
  }
}
