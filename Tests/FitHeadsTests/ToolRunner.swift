// Running the built `fit-heads` as a user would, and small feature files to run it on.

import FeatureStore
import Foundation
import HDF5
import Heads
import Support
import ToolTesting
import XCTest

/// Runs `fit-heads` with `arguments` and waits for it.
func runFitHeads(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
  let result = try runTool("fit-heads", arguments)
  return (result.status, result.stdout, result.stderr)
}

/// A feature file of two taps, `a` (4 wide) and `b` (3 wide), each row's taps L2-normalised on
/// their own, with labels true by construction:
///   tags    label set: `x` when a[0] > 0, `y` when b[0] > 0, `-` when neither; missing
///           (empty) on every 25th row
///   fold    `_`-joined folder-style name of the same two facts: `x_y`, `x_no`, `no_y`, `no_no`
///   sign    `pos` / `neg`: a[1] > 0 (binary)
///   score   numeric, 1 + 9 (a[2] + 1) / 2
///   split   train for rows < 0.7 N, val up to 0.85 N, test after
/// Returns the path and the labels (tags per row, nil = missing) for checking.
/// With `noiseInB`, tap b's columns are replaced, after the labels are made, by other random unit
/// vectors drawn from that seed: what a head that reads only tap a must not notice.
func writeTwoTapFile(in folder: URL, rows n: Int = 400, name: String = "two-taps.h5", noiseInB: UInt64? = nil)
  throws -> String
{
  var generator = SplitMix64(seed: 7)
  let widths = [4, 3]
  let d = widths.reduce(0, +)
  var features = [Float](repeating: 0, count: n * d)
  for row in 0..<n {
    var start = 0
    for width in widths {
      let values = (0..<width).map { _ in generator.nextGaussian() }
      let norm = values.map { $0 * $0 }.reduce(0, +).squareRoot()
      for j in 0..<width { features[row * d + start + j] = Float(values[j] / norm) }
      start += width
    }
  }
  var tags: [String?] = []
  var folds: [String?] = []
  var signs: [String?] = []
  var scores: [Float] = []
  var splits: [String?] = []
  for row in 0..<n {
    let x = features[row * d] > 0
    let y = features[row * d + 4] > 0
    let set = [x ? "x" : nil, y ? "y" : nil].compactMap { $0 }
    tags.append(row % 25 == 24 ? nil : (set.isEmpty ? "-" : set.joined(separator: ";")))
    folds.append((x ? "x" : "no") + "_" + (y ? "y" : "no"))
    signs.append(features[row * d + 1] > 0 ? "pos" : "neg")
    scores.append(1 + 9 * (features[row * d + 2] + 1) / 2)
    splits.append(row < n * 70 / 100 ? "train" : (row < n * 85 / 100 ? "val" : "test"))
  }
  if let noiseInB {
    var noise = SplitMix64(seed: noiseInB)
    for row in 0..<n {
      let values = (0..<3).map { _ in noise.nextGaussian() }
      let norm = values.map { $0 * $0 }.reduce(0, +).squareRoot()
      for j in 0..<3 { features[row * d + 4 + j] = Float(values[j] / norm) }
    }
  }
  let path = folder.appendingPathComponent(name).path
  let writer = try FeatureFileWriter(
    path: path,
    attributes: FeatureFileAttributes(
      backbone: "resnet50", weightsFile: "synthetic", weightsSHA256: "", height: 224, width: 224,
      interpolation: "nearest", exif: "ignore", taps: ["a", "b"], tapWidths: widths, toolVersion: "test"),
    dimension: d)
  try features.withUnsafeBufferPointer { try writer.appendRows($0) }
  try writer.finish(
    paths: (0..<n).map { String(format: "img_%04d.jpg", $0) },
    labels: [
      .categorical(name: "fold", values: folds), .numeric(name: "score", values: scores),
      .categorical(name: "sign", values: signs), .categorical(name: "split", values: splits),
      .categorical(name: "tags", values: tags),
    ], failedPaths: [], failedReasons: [])
  return path
}

/// `n` rows of `d` Gaussian features, each row L2-normalised as extract stores them, (n, d).
func normalizedGaussianRows(_ n: Int, _ d: Int, using generator: inout SplitMix64) -> [Float] {
  var features = [Float](repeating: 0, count: n * d)
  for i in 0..<n {
    let row = (0..<d).map { _ in generator.nextGaussian() }
    let norm = row.map { $0 * $0 }.reduce(0, +).squareRoot()
    for j in 0..<d { features[i * d + j] = Float(row[j] / norm) }
  }
  return features
}

/// The metrics JSON `fit-heads --metrics` wrote, as nested dictionaries: `heads.NAME`.
func headMetrics(_ path: String, head: String) throws -> [String: Any] {
  let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
  return try XCTUnwrap(((json as? [String: Any])?["heads"] as? [String: Any])?[head] as? [String: Any])
}

/// The per-label entries of a sigmoid head's metrics on `split`, by label name.
func sigmoidLabels(_ metrics: [String: Any], split: String) throws -> [String: [String: Any]] {
  let labels = try XCTUnwrap((metrics[split] as? [String: Any])?["labels"] as? [[String: Any]])
  return Dictionary(uniqueKeysWithValues: labels.map { ($0["name"] as? String ?? "", $0) })
}
