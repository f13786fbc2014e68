// `predict --shard K/N`: the parts, concatenated in K order, are byte for byte the file one run
// writes (CSV: only part 0 has the header; JSON lines have none), for N = 1, 3 and more shards
// than images, with failed images among them.

import FeatureStore
import Foundation
import Heads
import ToolTesting
import XCTest

final class ShardPredictTests: XCTestCase {
  func testPartsConcatenatedInOrderEqualOneRun() throws {
    let folder = try temporaryFolder(self, "predict-shards")
    let images = folder.appendingPathComponent("images")
    try writeImageFolder(images)
    let headsPath = try randomWeightsHeadsFile(in: folder)
    let base = ["--heads", headsPath, "--weights", "random", "--images", images.path, "--batch-size", "2", "--quiet"]
    for (format, counts) in [("csv", [1, 3, 10]), ("jsonl", [3])] {
      let single = folder.appendingPathComponent("single.\(format)").path
      XCTAssertEqual(try runTool("predict", base + ["--output", single]).status, 0)
      let whole = try Data(contentsOf: URL(fileURLWithPath: single))
      for n in counts {
        var joined = Data()
        for k in 0..<n {
          let part = folder.appendingPathComponent("part-\(k)-of-\(n).\(format)").path
          let run = try runTool("predict", base + ["--output", part, "--shard", "\(k)/\(n)"])
          XCTAssertEqual(run.status, 0, run.stderr)
          joined += try Data(contentsOf: URL(fileURLWithPath: part))
        }
        XCTAssertEqual(joined, whole, "\(format), N = \(n)")
      }
    }
    let bad = try runTool("predict", base + ["--shard", "2/2"])
    XCTAssertEqual(bad.status, 2)
    XCTAssertTrue(bad.stderr.contains("--shard 2/2"), bad.stderr)
  }
}
