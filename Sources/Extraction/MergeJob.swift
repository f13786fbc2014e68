// `merge`: shard files (`extract --shard K/N`) joined into the file a single run over the same
// images would have written: same paths in the same order, labels and classes, /failed and
// attributes, the features copied row for row. Every shard is checked here, never taken on a
// scheduler's word: complete, made with the same settings from the same dataset, of the same N,
// every K exactly once, each holding its whole slice. Features are streamed a block of rows at
// a time; the output is written under a temporary name and renamed into place.

import FeatureStore
import Foundation
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
    guard info.settingsSHA256 == first.info.settingsSHA256, shard.file.dimension == first.file.dimension else {
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
    let found = shard.file.rowCount + shard.file.failedPaths.count
    let last = shard.info.spec.index == count - 1
    guard last ? found >= expected : found == expected else {
      throw ExtractError.usage(
        "\(shard.path) holds \(found) images, shard \(shard.info.spec.description) of \(shard.info.totalImages) "
          + "has \(expected): not a complete shard")
    }
  }

  var attributes = first.file.attributes
  attributes.shard = nil
  let rows = ordered.reduce(0) { $0 + $1.file.rowCount }
  let dimension = first.file.dimension
  let labels = try concatenatedLabels(ordered)
  do {
    try AtomicFile.replace(output) { temporary in
      let writer = try FeatureFileWriter(
        path: temporary, attributes: attributes, dimension: dimension, expectedRows: rows)
      let blockRows = max(1, (16 << 20) / (4 * max(1, dimension)))
      var buffer = [Float](repeating: 0, count: blockRows * dimension)
      for shard in ordered where shard.file.rowCount > 0 {
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
      try writer.finish(
        paths: ordered.flatMap(\.file.paths), labels: labels, failedPaths: ordered.flatMap(\.file.failedPaths),
        failedReasons: ordered.flatMap(\.file.failedReasons))
    }
  } catch let error as AtomicReplaceError {
    throw ExtractError.runtime(error.description)
  } catch let error as ExtractError {
    throw error
  } catch {
    throw ExtractError.runtime("cannot write \(output): \(error)")
  }
  return MergeSummary(
    shards: count, rows: rows, failed: ordered.reduce(0) { $0 + $1.file.failedPaths.count },
    seconds: Date().timeIntervalSince(started), output: output)
}

/// A shard file: its path, contents without the features, and what it records of the run.
private struct Shard {
  var path: String
  var file: FeatureFile
  var info: ShardInfo
}

private func readShard(_ path: String) throws -> Shard {
  let file: FeatureFile
  do {
    file = try FeatureFile.read(path: path, features: false)
  } catch {
    throw ExtractError.usage("\(path): \(error)")
  }
  guard file.complete else { throw ExtractError.usage("\(path) is not complete (its extract did not finish)") }
  guard let info = file.attributes.shard else {
    throw ExtractError.usage("\(path) is not a shard file (made without extract --shard K/N)")
  }
  return Shard(path: path, file: file, info: info)
}

/// The shards' label columns, rows in K order. Classes are the whole dataset's in every shard
/// (a shard that saw one class still numbers the others), so indices are concatenated as they are.
private func concatenatedLabels(_ shards: [Shard]) throws -> [LabelColumn] {
  let first = shards[0]
  return try first.file.labels.map { column in
    switch column {
    case .categorical(let name, let classes, _):
      var indices: [Int32] = []
      for shard in shards {
        guard case .categorical(name, classes, let part)? = shard.file.labels.first(where: { $0.name == name })
        else { throw ExtractError.usage("\(shard.path): label column '\(name)' differs from \(first.path)'s") }
        indices += part
      }
      return .categorical(name: name, classes: classes, indices: indices)
    case .numeric(let name, _):
      var values: [Float] = []
      for shard in shards {
        guard case .numeric(name, let part)? = shard.file.labels.first(where: { $0.name == name }) else {
          throw ExtractError.usage("\(shard.path): label column '\(name)' differs from \(first.path)'s")
        }
        values += part
      }
      return .numeric(name: name, values: values)
    }
  }
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
