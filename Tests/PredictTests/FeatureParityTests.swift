// predict's numbers are the heads applied to extract's features: the built `extract` stores
// features of a few fixture images, and the built `predict` on the same images must give what
// `MultiHeadModel.predict` gives on those stored rows. Since extract's features are tested
// against Keras (ExtractTests/KerasParityTests), this ties predict to Keras too.

import FeatureStore
import Foundation
import Heads
import Predicting
import ToolTesting
import XCTest

final class FeatureParityTests: XCTestCase {
  func testPredictEqualsTheHeadsAppliedToExtractsStoredFeatures() throws {
    let folder = try temporaryFolder(self, "predict-parity")
    let images = folder.appendingPathComponent("images")
    try writeImageFolder(images)
    let features = folder.appendingPathComponent("features.h5").path
    let extracted = try runTool(
      "extract",
      [
        "--images", images.path, "--output", features, "--weights", "random", "--seed", "5", "--size", "64x64",
        "--taps", "conv4_block6_out,conv5_block3_out", "--batch-size", "3", "--quiet",
      ])
    XCTAssertEqual(extracted.status, 0, extracted.stderr)
    let file = try FeatureFile.read(path: features)
    XCTAssertEqual(file.paths, ["a/astronaut.jpg", "a/camera.jpg", "b/chelsea.png", "tiny.jpg"])
    XCTAssertEqual(file.failedPaths.count, 3)

    // Heads on both taps, and heads on the last tap only (what `fit-heads --taps` records).
    var lastTap = file.attributes
    lastTap.taps = ["conv5_block3_out"]
    lastTap.tapWidths = [2048]
    let cases: [(name: String, heads: HeadsFile, columns: Range<Int>)] = [
      ("both-taps", handBuiltHeads(provenance: file.attributes, seed: 1), 0..<file.dimension),
      ("last-tap", handBuiltHeads(provenance: lastTap, seed: 2), 1024..<file.dimension),
    ]
    for (name, heads, columns) in cases {
      let headsPath = folder.appendingPathComponent("\(name).h5").path
      try heads.write(to: headsPath)
      let output = folder.appendingPathComponent("\(name).csv").path
      // Another batch size than extract's: the features must not depend on the batching.
      let run = try runTool(
        "predict",
        [
          "--heads", headsPath, "--weights", "random", "--images", images.path, "--output", output,
          "--batch-size", "2", "--quiet",
        ])
      XCTAssertEqual(run.status, 0, run.stderr)
      XCTAssertTrue(run.stderr.contains("warning: 3 image(s) could not be read"), run.stderr)

      let (header, rows) = try csvRecords(output)
      XCTAssertEqual(header, PredictionFormatter(heads: heads, format: .csv).columns)
      // Every file, in extract's order; the unusable ones with extract's own reasons.
      let all = (file.paths + file.failedPaths).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
      XCTAssertEqual(rows.map { $0["path"] ?? "" }, all)
      for (path, reason) in zip(file.failedPaths, file.failedReasons) {
        let row = try XCTUnwrap(rows.first { $0["path"] == path })
        XCTAssertEqual(row["status"], "failed")
        XCTAssertEqual(row["error"], reason)
        XCTAssertEqual(row["style"], "", "a failed image has no predictions")
      }

      // The heads applied to the stored rows (restricted to the heads' taps).
      let d = file.dimension
      let x = (0..<file.paths.count).flatMap {
        file.features[($0 * d + columns.lowerBound)..<($0 * d + columns.upperBound)]
      }
      let expected = readHeads(heads, outputs: heads.model.predict(features: x), rows: file.paths.count)
      var worstProbability: Float = 0
      var worstValue: Float = 0
      var spread: Float = 0
      // How far apart the images' outputs are: the tolerance must be far below it.
      for row in expected.dropFirst() {
        for (a, b) in zip(expected[0], row) { spread = max(spread, largestDifference(a, b)) }
      }
      for (i, path) in file.paths.enumerated() {
        let row = try XCTUnwrap(rows.first { $0["path"] == path })
        XCTAssertEqual(row["status"], "ok")
        XCTAssertEqual(row["error"], "")
        for (spec, prediction) in zip(heads.specs, expected[i]) {
          let names = heads.classNames[spec.name] ?? []
          switch prediction {
          case .classification(let predicted, let probabilities):
            XCTAssertEqual(row[spec.name], predicted, path)
            for (class_, p) in zip(names, probabilities) {
              let stored = try XCTUnwrap(Float(row["\(spec.name):\(class_)"] ?? ""))
              worstProbability = max(worstProbability, abs(stored - p))
            }
          case .labels(let labels, let probabilities):
            XCTAssertEqual(row[spec.name], labels.isEmpty ? "-" : labels.joined(separator: ";"), path)
            for (label, p) in zip(names, probabilities) {
              let stored = try XCTUnwrap(Float(row["\(spec.name):\(label)"] ?? ""))
              worstProbability = max(worstProbability, abs(stored - p))
            }
          case .values(let values):
            let stored = try XCTUnwrap(Float(row[spec.name] ?? ""))
            worstValue = max(worstValue, abs(stored - values[0]))
          case .hue(let hue):
            XCTAssertEqual(row[spec.name], hue, path)
          }
        }
      }
      print(
        "\(name): max |probability difference| \(worstProbability), max |score difference| \(worstValue) "
          + "(score range 1...10), largest output difference between images \(spread)")
      XCTAssertLessThanOrEqual(worstProbability, 1e-6)
      XCTAssertLessThanOrEqual(worstValue, 1e-5)
      XCTAssertGreaterThan(spread, 1e-4, "the heads must tell the images apart, or the comparison proves little")
    }
  }

  /// The same run as JSON lines carries the same predictions as the CSV.
  func testJSONLinesCarryTheSamePredictionsAsCSV() throws {
    let folder = try temporaryFolder(self, "predict-jsonl")
    let images = folder.appendingPathComponent("images")
    try writeImageFolder(images)
    let headsPath = try randomWeightsHeadsFile(in: folder)
    let csv = folder.appendingPathComponent("p.csv").path
    let jsonl = folder.appendingPathComponent("p.jsonl").path
    for output in [csv, jsonl] {
      let run = try runTool(
        "predict", ["--heads", headsPath, "--weights", "random", "--images", images.path, "--output", output])
      XCTAssertEqual(run.status, 0, run.stderr)
      XCTAssertTrue(run.stderr.contains("RANDOM WEIGHTS (seed 4)"), run.stderr)
      XCTAssertTrue(run.stderr.contains("predicted 4 of 7 images"), run.stderr)
    }
    let (_, rows) = try csvRecords(csv)
    let lines = try jsonRecords(jsonl)
    XCTAssertEqual(lines.count, rows.count)
    for (row, line) in zip(rows, lines) {
      XCTAssertEqual(line["path"] as? String, row["path"])
      XCTAssertEqual(line["status"] as? String, row["status"])
      guard row["status"] == "ok" else {
        XCTAssertEqual(line["error"] as? String, row["error"])
        XCTAssertNil(line["style"])
        continue
      }
      XCTAssertNil(line["error"])
      let style = try XCTUnwrap(line["style"] as? [String: Any])
      XCTAssertEqual(style["class"] as? String, row["style"])
      let probabilities = try XCTUnwrap(style["probabilities"] as? [String: Double])
      XCTAssertEqual(Set(probabilities.keys), ["calm", "busy, loud", "\"quoted\""])
      for (name, p) in probabilities { XCTAssertEqual(Float(p), Float(row["style:\(name)"] ?? "")) }
      let tags = try XCTUnwrap(line["tags"] as? [String: Any])
      let labels = try XCTUnwrap(tags["labels"] as? [String])
      XCTAssertEqual(labels.isEmpty ? "-" : labels.joined(separator: ";"), row["tags"])
      XCTAssertEqual(Float(try XCTUnwrap(line["score"] as? Double)), Float(row["score"] ?? ""))
      XCTAssertEqual(line["hue"] as? String, row["hue"])
    }
  }
}

/// The largest difference between two predictions' probabilities or values.
private func largestDifference(_ a: HeadPrediction, _ b: HeadPrediction) -> Float {
  switch (a, b) {
  case (.classification(_, let p), .classification(_, let q)), (.labels(_, let p), .labels(_, let q)),
    (.values(let p), .values(let q)):
    return zip(p, q).map { abs($0 - $1) }.max() ?? 0
  default: return 0
  }
}
