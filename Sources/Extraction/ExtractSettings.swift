// The settings that decide what a feature file contains. A partial run is only continued with
// exactly the same ones; otherwise the first difference is named.

import Foundation

/// The result-defining settings of a run, stored in the journal header.
struct ExtractSettings: Codable, Equatable {
  var images: String
  /// File count and a digest of the sorted relative paths: batches are slices of this list.
  var dataset: String
  var labels: String
  var backbone: String
  var weights: String
  var weightsSHA256: String
  var size: String
  var interpolation: String
  var exif: String
  var taps: [String]
  var maxPixels: Int
  var batchSize: Int
  /// "K/N" for a shard; absent (not encoded) for a whole run, so older journals still match.
  var shard: String? = nil

  func encoded() -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? encoder.encode(self)) ?? Data()
  }

  /// "--size 224x224 (partial run) vs 160x224 (this run)" for the first setting that differs.
  func firstDifference(from stored: ExtractSettings) -> String {
    let pairs: [(String, String, String)] = [
      ("--images", stored.images, images),
      ("the image folder's contents", stored.dataset, dataset),
      ("--labels/--dir-labels", stored.labels, labels),
      ("--backbone", stored.backbone, backbone),
      ("--weights", stored.weights, weights),
      ("--weights (file contents, SHA-256)", stored.weightsSHA256, weightsSHA256),
      ("--size", stored.size, size),
      ("--interpolation", stored.interpolation, interpolation),
      ("--exif", stored.exif, exif),
      ("--taps", stored.taps.joined(separator: ","), taps.joined(separator: ",")),
      ("--max-pixels", String(stored.maxPixels), String(maxPixels)),
      ("--batch-size", String(stored.batchSize), String(batchSize)),
      ("--shard", stored.shard ?? "none", shard ?? "none"),
    ]
    for (flag, old, new) in pairs where old != new {
      return "\(flag) was \(old) in the unfinished run, this run asks for \(new)"
    }
    return "the settings differ"
  }
}

extension LabelSource {
  var settingDescription: String {
    switch self {
    case .folders: return "folders"
    case .splitFolders(let columns): return "dir-labels " + columns.joined(separator: ",")
    case .csv(let path): return "csv " + path
    }
  }
}
