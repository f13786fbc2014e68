// `predict --array`: rows named as extract names them, the same lines from a stored or a
// deflated .npz, and shards (row ranges of the array) that concatenate to one run's file.

import Foundation
import ToolTesting
import XCTest

final class ArrayPredictTests: XCTestCase {
  func testArrayRowsArePredictedByNameAndShardsJoin() throws {
    let folder = try temporaryFolder(self, "predict-array")
    let headsPath = try randomWeightsHeadsFile(in: folder)
    let stored = fixturesDirectory.appendingPathComponent("arrays/cifar_like.npz").path
    let compressed = fixturesDirectory.appendingPathComponent("arrays/cifar_like_compressed.npz").path
    let base = ["--heads", headsPath, "--weights", "random", "--batch-size", "4", "--quiet"]
    let single = folder.appendingPathComponent("single.csv").path
    let run = try runTool("predict", base + ["--array", compressed, "--output", single])
    XCTAssertEqual(run.status, 0, run.stderr)
    let records = try csvRecords(single)
    XCTAssertEqual(records.rows.map { $0["path"] }, (0..<6).map { "x[00000\($0)]" })
    XCTAssertEqual(Set(records.rows.map { $0["status"] }), ["ok"])
    // The rows differ: each is its own image, not one repeated.
    XCTAssertEqual(Set(records.rows.map { $0["score"] }).count, 6)
    let whole = try Data(contentsOf: URL(fileURLWithPath: single))

    let other = folder.appendingPathComponent("stored.csv").path
    XCTAssertEqual(try runTool("predict", base + ["--array", stored + ":x", "--output", other]).status, 0)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: other)), whole)

    var joined = Data()
    for k in 0..<4 {
      let part = folder.appendingPathComponent("part-\(k).csv").path
      let shard = try runTool("predict", base + ["--array", compressed, "--output", part, "--shard", "\(k)/4"])
      XCTAssertEqual(shard.status, 0, shard.stderr)
      joined += try Data(contentsOf: URL(fileURLWithPath: part))
    }
    XCTAssertEqual(joined, whole)

    let both = try runTool("predict", base + ["--array", compressed, "--images", folder.path])
    XCTAssertEqual(both.status, 2, both.stderr)
    let missing = try runTool("predict", base + ["--array", stored + ":x_test"])
    XCTAssertEqual(missing.status, 2, missing.stderr)
    XCTAssertTrue(missing.stderr.contains("holds no array 'x_test'"), missing.stderr)
  }
}
