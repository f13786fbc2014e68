// `merge`: shard files (`extract --shard K/N`) joined into the file a single run over the same
// images would have written: same paths in the same order, labels and classes, /failed and
// attributes, the features copied row for row. Every shard is checked here, never taken on a
// scheduler's word: complete, made with the same settings from the same dataset, of the same N,
// every K exactly once, each holding its whole slice. Features are streamed a block of rows at
// a time, and the paths, labels and failures one shard at a time, so memory holds one shard's
// metadata, however many rows the whole file has; the output is written under a temporary name
// and renamed into place.

import FeatureStore
import Foundation
import HDF5
import Support

/// What a merge did.
public struct MergeSummary: Sendable {
  public var shards: Int
  public var rows: Int
  public var failed: Int
  public var seconds: Double
  public var output: String
}

/// Merges the shard files at `shardPaths` (any order) into `output`. Problems with the shards or
/// the arguments are `.usage` errors (exit 2, nothing written).
public func mergeShards(_ shardPaths: [String], output: String, overwrite: Bool = false) throws -> MergeSummary {
  let started = Date()
  guard !shardPaths.isEmpty else { throw ExtractError.usage("no shard files given") }
  try checkMergeOutput(output, inputs: shardPaths, overwrite: overwrite)
  let shards = try shardPaths.map(readShard)
  let first = shards[0]
  let count = first.info.spec.count
  var byIndex: [Int: Shard] = [:]
  for shard in shards {
    let info = shard.info
    guard info.spec.count == count else {
      throw ExtractError.usage(
        "\(shard.path) is shard \(info.spec.description), but \(first.path) is one of \(count): shards of "
          + "different runs")
    }
    guard info.settingsSHA256 == first.info.settingsSHA256, shard.dimension == first.dimension else {
      throw ExtractError.usage("\(shard.path) was made with other settings than \(first.path)")
    }
    guard info.datasetSHA256 == first.info.datasetSHA256, info.totalImages == first.info.totalImages else {
      throw ExtractError.usage("\(shard.path) was made from another dataset than \(first.path)")
    }
    if let other = byIndex[info.spec.index] {
      throw ExtractError.usage("shard \(info.spec.description) is given twice: \(other.path) and \(shard.path)")
    }
    byIndex[info.spec.index] = shard
  }
  let missing = (0..<count).filter { byIndex[$0] == nil }
  guard missing.isEmpty else {
    let named = missing.prefix(10).map { "\($0)/\(count)" }.joined(separator: ", ")
    throw ExtractError.usage(
      "\(missing.count) of \(count) shards missing (\(named)\(missing.count > 10 ? ", ..." : "")); merge needs all")
  }
  let ordered = (0..<count).map { byIndex[$0]! }
  for shard in ordered {
    // Every image of its slice is either a row or a failure (the last shard also lists the
    // manifest's missing files).
    let expected = shard.info.spec.rows(of: shard.info.totalImages).count
    let found = shard.rowCount + shard.failedCount
    let last = shard.info.spec.index == count - 1
    guard last ? found >= expected : found == expected else {
      throw ExtractError.usage(
        "\(shard.path) holds \(found) images, shard \(shard.info.spec.description) of \(shard.info.totalImages) "
          + "has \(expected): not a complete shard")
    }
  }

  for shard in ordered where shard.columns != first.columns {
    throw ExtractError.usage("\(shard.path): its label columns differ from \(first.path)'s")
  }
  var attributes = first.attributes
  attributes.shard = nil
  let rows = ordered.reduce(0) { $0 + $1.rowCount }
  let failed = ordered.reduce(0) { $0 + $1.failedCount }
  let dimension = first.dimension
  do {
    try AtomicFile.replace(output) { temporary in
      let writer = try FeatureFileWriter(
        path: temporary, attributes: attributes, dimension: dimension, expectedRows: rows)
      let blockRows = max(1, (16 << 20) / (4 * max(1, dimension)))
      var buffer = [Float](repeating: 0, count: blockRows * dimension)
      for shard in ordered where shard.rowCount > 0 {
        let reader = try FeatureRowReader(path: shard.path)
        var start = 0
        while start < reader.rowCount {
          let end = min(reader.rowCount, start + blockRows)
          let used = (end - start) * dimension
          try buffer.withUnsafeMutableBufferPointer { all in
            let block = UnsafeMutableBufferPointer(rebasing: all[..<used])
            try reader.read(rows: start..<end, into: block)
            try writer.appendRows(UnsafeBufferPointer(block))
          }
          start = end
        }
      }
      // One shard's paths, labels and failures at a time.
      var next = ordered.makeIterator()
      try writer.finish(columns: first.columns, failedCount: failed) {
        guard let shard = next.next() else { return nil }
        let file = try FeatureFile.read(path: shard.path, features: false)
        return FeatureFileMetadataPart(
          paths: file.paths, labels: file.labels, failedPaths: file.failedPaths, failedReasons: file.failedReasons)
      }
    }
  } catch let error as AtomicReplaceError {
    throw ExtractError.runtime(error.description)
  } catch let error as ExtractError {
    throw error
  } catch let error as HDF5ChecksumError {
    // A shard's rows or labels, met while they are copied: the shard is named, nothing is written.
    throw ExtractError.usage(error.description)
  } catch {
    throw ExtractError.runtime("cannot write \(output): \(error)")
  }
  return MergeSummary(
    shards: count, rows: rows, failed: failed,
    seconds: Date().timeIntervalSince(started), output: output)
}

/// A shard file as checked: its path, what it records of the run, its counts and its label
/// columns' names, kinds and classes (no values: those are read again, one shard at a time,
/// when the merged file is written).
private struct Shard {
  var path: String
  var info: ShardInfo
  var attributes: FeatureFileAttributes
  var rowCount: Int
  var failedCount: Int
  var dimension: Int
  var columns: [LabelColumn]
}

private func readShard(_ path: String) throws -> Shard {
  let file: FeatureFile
  do {
    file = try FeatureFile.read(path: path, features: false)
  } catch let error as HDF5ChecksumError {
    throw ExtractError.usage("\(path): \(error.problem)")
  } catch {
    throw ExtractError.usage("\(path): \(error)")
  }
  guard file.complete else { throw ExtractError.usage("\(path) is not complete (its extract did not finish)") }
  guard let info = file.attributes.shard else {
    throw ExtractError.usage("\(path) is not a shard file (made without extract --shard K/N)")
  }
  return Shard(
    path: path, info: info, attributes: file.attributes, rowCount: file.rowCount,
    failedCount: file.failedPaths.count, dimension: file.dimension, columns: file.labels.map { $0.selecting(rows: []) })
}

/// The output may not be one of the shards, nor replace a file without `overwrite`, and its
/// folder must exist and be writable.
private func checkMergeOutput(_ output: String, inputs: [String], overwrite: Bool) throws {
  let target = URL(fileURLWithPath: output).standardizedFileURL.path
  if inputs.contains(where: { URL(fileURLWithPath: $0).standardizedFileURL.path == target }) {
    throw ExtractError.usage("--output \(output) is one of the shards")
  }
  var isDirectory: ObjCBool = false
  if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory) {
    if isDirectory.boolValue { throw ExtractError.usage("--output \(output) is a folder") }
    if !overwrite { throw ExtractError.usage("--output \(output) already exists; pass --overwrite to replace it") }
  }
  let parent = URL(fileURLWithPath: output).deletingLastPathComponent().path
  guard access(parent, W_OK) == 0 else {
    throw ExtractError.usage("--output \(output): the folder \(parent) does not exist or is not writable")
  }
}
