// Where `fit-heads` gets its feature rows: the whole (N, D) matrix in memory when it fits
// `--max-memory` (the file's own rows mapped in place where HDF5 stores them as they are in
// memory, MappedFeatureRows, else a matrix read from it), otherwise read from the feature file a
// chunk of rows at a time.
//
// Rows are never copied into per-split matrices: training, validation and prediction visit the
// rows they need by file row index, straight from the matrix or from the current chunk.
//
// Shuffling. In memory, an epoch visits the training rows in the order `epochBatches` gives
// (a fresh seeded permutation per epoch, as Keras' shuffle=True). Streamed, the file is cut into
// consecutive chunks of `chunkRows` rows; an epoch visits the chunks in an order shuffled with
// SplitMix64(seed, stream 0x5EED0000 + epoch) and, inside each chunk, its training rows in an
// order shuffled by the same generator. Batches are consecutive rows of that order (they may
// straddle two chunks). That is a different batch composition from the in-memory order (rows of
// one chunk travel together), but the same seed always gives the same batches.

import FeatureStore
import Foundation
import Heads
import Support

/// The feature rows of one run.
final class FeatureSource {
  /// D.
  let width: Int
  /// Rows read at once when streaming; nil in memory.
  let chunkRows: Int?
  /// Never mutated after init, so its storage stays where it is for the object's lifetime: the
  /// row pointers `forEachRow` and `forEachTrainingRow` pass on stay valid until the source is
  /// released (HeadsTrainer relies on that when `isStreaming` is false).
  private let matrix: [Float]
  /// The rows in place in the mapped file, instead of `matrix`.
  private let mapped: MappedFeatureRows?
  private let reader: FeatureRowReader?
  /// Streaming with `--taps`: the stored columns kept (each row's ranges side by side), nil for all.
  private let columns: [Range<Int>]?
  private var chunk: [Float] = []
  /// Whole stored rows of a chunk before `columns` picks from them.
  private var raw: [Float] = []

  /// All rows in memory, (N, D) row-major.
  init(matrix: [Float], width: Int) {
    self.matrix = matrix
    self.width = width
    mapped = nil
    reader = nil
    columns = nil
    chunkRows = nil
  }

  /// All rows in place in the mapped feature file.
  init(mapped: MappedFeatureRows) {
    self.mapped = mapped
    width = mapped.dimension
    matrix = []
    reader = nil
    columns = nil
    chunkRows = nil
  }

  /// Rows read from `reader` `chunkRows` at a time; with `columns`, only those stored columns
  /// (each row's ranges side by side, as `--taps` picks them).
  init(reader: FeatureRowReader, chunkRows: Int, columns: [Range<Int>]? = nil) {
    precondition(chunkRows >= 1)
    self.reader = reader
    self.columns = columns
    width = columns.map { $0.reduce(0) { $0 + $1.count } } ?? reader.dimension
    self.chunkRows = min(chunkRows, max(1, reader.rowCount))
    matrix = []
    mapped = nil
  }

  /// Calls `body` with a function from a row index to its features (D), for the sources held
  /// whole (matrix or mapped file).
  private func withWholeRows<R>(_ body: ((Int) -> UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    let width = self.width
    if let mapped { return try body { UnsafeBufferPointer(start: mapped.row($0), count: width) } }
    return try matrix.withUnsafeBufferPointer { x in
      try body { UnsafeBufferPointer(rebasing: x[($0 * width)..<(($0 + 1) * width)]) }
    }
  }

  var isStreaming: Bool { reader != nil }

  /// Calls `body` with each of `rows` (file row indices, ascending) and its features (D).
  func forEachRow(_ rows: [Int], _ body: (UnsafeBufferPointer<Float>, Int) throws -> Void) throws {
    guard let reader, let chunkRows else {
      try withWholeRows { features in
        for row in rows { try body(features(row), row) }
      }
      return
    }
    var next = 0
    while next < rows.count {
      let start = rows[next]
      let end = min(reader.rowCount, start + chunkRows)
      try readChunk(start..<end)
      try chunk.withUnsafeBufferPointer { x in
        while next < rows.count && rows[next] < end {
          precondition(rows[next] >= start, "forEachRow needs ascending rows")
          let offset = rows[next] - start
          try body(UnsafeBufferPointer(rebasing: x[(offset * width)..<((offset + 1) * width)]), rows[next])
          next += 1
        }
      }
    }
  }

  /// Calls `body` with each training row of epoch `epoch` in training order (see the file
  /// comment) and its features (D). `rows` are the training rows' file indices, ascending.
  func forEachTrainingRow(
    _ rows: [Int], batchSize: Int, epoch: Int, seed: UInt64, _ body: (UnsafeBufferPointer<Float>, Int) -> Void
  ) throws {
    guard let reader, let chunkRows else {
      let order = epochBatches(rows: rows.count, batchSize: batchSize, epoch: epoch, seed: seed, shuffle: true)
      withWholeRows { features in
        for batch in order {
          for position in batch { body(features(rows[position]), rows[position]) }
        }
      }
      return
    }
    // The chunks holding training rows, and those rows.
    var chunks: [(range: Range<Int>, rows: [Int])] = []
    for row in rows {
      let start = row / chunkRows * chunkRows
      if chunks.last?.range.lowerBound != start {
        chunks.append((start..<min(reader.rowCount, start + chunkRows), []))
      }
      chunks[chunks.count - 1].rows.append(row)
    }
    var generator = SplitMix64(seed: seed, stream: 0x5EED_0000 &+ UInt64(epoch))
    fisherYatesShuffle(&chunks, using: &generator)
    for var part in chunks {
      fisherYatesShuffle(&part.rows, using: &generator)
      try readChunk(part.range)
      chunk.withUnsafeBufferPointer { x in
        for row in part.rows {
          let offset = row - part.range.lowerBound
          body(UnsafeBufferPointer(rebasing: x[(offset * width)..<((offset + 1) * width)]), row)
        }
      }
    }
  }

  /// The features of `rows` (ascending) in blocks of at most `blockRows` rows: `body` gets
  /// pointers to each block's rows (D floats each), valid during the call. Rows held whole are
  /// used in place; streamed rows are gathered into one block first (a block may straddle two
  /// chunks).
  func forEachBlock(_ rows: [Int], blockRows: Int, _ body: ([UnsafePointer<Float>]) throws -> Void) throws {
    if !isStreaming {
      try withWholeRows { features in
        for start in stride(from: 0, to: rows.count, by: blockRows) {
          try body(rows[start..<min(rows.count, start + blockRows)].map { features($0).baseAddress! })
        }
      }
      return
    }
    var block = [Float]()
    block.reserveCapacity(min(rows.count, blockRows) * width)
    func flush() throws {
      try block.withUnsafeBufferPointer { x in
        try body((0..<(block.count / width)).map { x.baseAddress! + $0 * width })
      }
      block.removeAll(keepingCapacity: true)
    }
    try forEachRow(rows) { features, _ in
      block.append(contentsOf: features)
      if block.count == blockRows * width { try flush() }
    }
    if !block.isEmpty { try flush() }
  }

  private func readChunk(_ range: Range<Int>) throws {
    guard let reader else { return }
    if chunk.count < range.count * width { chunk = [Float](repeating: 0, count: range.count * width) }
    guard let columns else {
      try chunk.withUnsafeMutableBufferPointer { buffer in
        try reader.read(rows: range, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<(range.count * width)]))
      }
      return
    }
    // Read whole stored rows (D) into `raw`, then keep the chosen columns of each in `chunk`.
    let stored = reader.dimension
    if raw.count < range.count * stored { raw = [Float](repeating: 0, count: range.count * stored) }
    try raw.withUnsafeMutableBufferPointer { buffer in
      try reader.read(rows: range, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<(range.count * stored)]))
    }
    var to = 0
    for row in 0..<range.count {
      for columnRange in columns {
        let from = row * stored + columnRange.lowerBound
        chunk[to..<(to + columnRange.count)] = raw[from..<(from + columnRange.count)]
        to += columnRange.count
      }
    }
  }
}

/// Half of the machine's physical memory: the default `--max-memory`.
func defaultMaxMemory() -> Int {
  Int(ProcessInfo.processInfo.physicalMemory / 2)
}
