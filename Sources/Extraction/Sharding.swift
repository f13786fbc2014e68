// `extract --shard K/N`: the slice of the dataset a shard extracts, and the fingerprints its file
// records so that `merge` can check the parts fit together (FeatureStore/Shard.swift has the
// slicing rule and the attributes).

import FeatureStore
import Foundation
import Support

extension Dataset {
  /// The rows `rows` of the dataset; the manifest's missing files go with the last shard only,
  /// so the merged /failed lists them once, last, as a single run does.
  func shard(_ spec: ShardSpec) -> Dataset {
    let rows = spec.rows(of: paths.count)
    return Dataset(
      paths: Array(paths[rows]), labels: labels.map { $0.selecting(rows: Array(rows)) },
      missing: spec.index == spec.count - 1 ? missing : [], skipped: skipped)
  }

  /// SHA-256 of the sorted paths with every label: the same for every shard of one dataset, and
  /// different when a file or a label differs (not when the folder is mounted elsewhere).
  var contentsSHA256: String {
    var hasher = SHA256()
    func add(_ text: String) { Array(text.utf8 + [0]).withUnsafeBytes { hasher.update($0) } }
    add("paths \(paths.count)")
    for path in paths { add(path) }
    add("missing \(missing.count)")
    for path in missing { add(path) }
    for column in labels {
      switch column {
      case .categorical(let name, let classes, let indices):
        add("categorical \(name)")
        for name in classes { add(name) }
        for index in indices { add(String(index)) }
      case .numeric(let name, let values):
        add("numeric \(name)")
        for value in values { add(String(value.bitPattern)) }
      }
    }
    return hasher.finalizeHex()
  }
}

extension ExtractSettings {
  /// SHA-256 of the settings that decide the features, without what is local to one host (the
  /// image folder's and the manifest's paths) or to one shard: equal for every shard of a run.
  var shardSettingsSHA256: String {
    var stripped = self
    stripped.images = ""
    stripped.dataset = ""
    stripped.shard = nil
    if stripped.labels.hasPrefix("csv ") { stripped.labels = "csv" }
    // A weight file is known by its digest wherever it lies; random weights by their seed.
    if !stripped.weightsSHA256.isEmpty { stripped.weights = "" }
    var hasher = SHA256()
    stripped.encoded().withUnsafeBytes { hasher.update($0) }
    return hasher.finalizeHex()
  }
}
