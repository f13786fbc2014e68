// `fit-heads --threshold` and `--misclassified`, through the built tool, on the two-tap file whose
// labels are true by construction (ToolRunner.swift): the misclassified rows must be exactly the
// rows the metrics count as wrong, at the threshold given.

import Foundation
import XCTest

@testable import Fitting

final class ThresholdMisclassifiedTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("fit-heads-thr-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  func testAGivenThresholdDecidesAndTheWrongRowsAreListed() throws {
    let features = try writeTwoTapFile(in: folder)
    let metrics = folder.appendingPathComponent("m.json").path
    let wrong = folder.appendingPathComponent("wrong.csv").path
    // Few epochs and a high threshold: some rows are wrong, on both heads.
    let result = try runFitHeads([
      "--features", features, "--head", "s=sigmoid:sign", "--head", "f=softmax:fold", "--threshold", "s=0.9",
      "--epochs", "2", "--metrics", metrics, "--misclassified", wrong, "--quiet",
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    let lines = try String(contentsOfFile: wrong, encoding: .utf8).split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.first, "split,path,head,label,predicted,score")
    for (split, name) in [("val", "s"), ("test", "s"), ("val", "f"), ("test", "f")] {
      let head = try headMetrics(metrics, head: name)
      let listed = lines.filter { $0.hasPrefix("\(split),") && $0.split(separator: ",")[2] == name }
      let expected: Int
      if name == "s" {
        let label = try XCTUnwrap(try sigmoidLabels(head, split: split)["pos"])
        XCTAssertEqual(label["threshold"] as? Double, 0.9)
        let count = try XCTUnwrap(label["count"] as? Int)
        expected = Int(((1 - (label["accuracy_at_threshold"] as? Double ?? 0)) * Double(count)).rounded())
        let interval = try XCTUnwrap(label["accuracy_ci95"] as? [Double])
        XCTAssertLessThanOrEqual(interval[0], label["accuracy_at_threshold"] as? Double ?? -1)
      } else {
        let splitMetrics = try XCTUnwrap(head[split] as? [String: Any])
        let count = try XCTUnwrap(splitMetrics["count"] as? Int)
        expected = Int(((1 - (splitMetrics["accuracy"] as? Double ?? 0)) * Double(count)).rounded())
      }
      XCTAssertGreaterThan(expected, 0, "\(split) \(name): nothing wrong, the test checks nothing")
      XCTAssertEqual(listed.count, expected, "\(split) \(name)")
    }
    // A wrong binary row names both classes, the truth first: the sign head's classes are neg, pos.
    let row = try XCTUnwrap(lines.first { $0.split(separator: ",")[2] == "s" }).split(separator: ",")
    XCTAssertTrue([["neg", "pos"], ["pos", "neg"]].contains([String(row[3]), String(row[4])]), "\(row)")
  }

  func testBadThresholdsExitTwo() throws {
    let features = try writeTwoTapFile(in: folder, rows: 60)
    for (arguments, message) in [
      (["--threshold", "s=1.5"], "--threshold s=1.5: a threshold lies between 0 and 1"),
      (["--threshold", "f=0.5"], "--threshold f=0.5: no sigmoid head 'f' (thresholds apply to sigmoid heads)"),
      (["--threshold", "=0.5"], "--threshold =0.5: expected NAME=VALUE or VALUE"),
    ] {
      let result = try runFitHeads(
        ["--features", features, "--head", "s=sigmoid:sign", "--head", "f=softmax:fold"] + arguments + ["--quiet"])
      XCTAssertEqual(result.status, 2, "\(arguments)")
      XCTAssertTrue(result.stderr.contains(message), result.stderr)
    }
    XCTAssertEqual(try parseThreshold("0.85").value, 0.85)
    XCTAssertEqual(try parseThreshold("cat=0.85").head, "cat")
  }
}
