// One flipped bit in a shard, through the built `merge`: in its rows or in its labels, it is
// refused with one line naming the file, the dataset and its rows (exit 2), and nothing is
// written. (A damaged Keras weight file given to `extract`: FinetuneToolTests.ChecksumToolTests.)

import Foundation
import HDF5
import ToolTesting
import XCTest

final class ChecksumToolTests: XCTestCase {
  /// Six fixture images in two class folders.
  private func imageFolder(in folder: URL) throws -> URL {
    let source = fixturesDirectory.appendingPathComponent("images")
    let images = try FileManager.default.contentsOfDirectory(atPath: source.path)
      .filter { $0.hasSuffix(".jpg") || $0.hasSuffix(".png") }.sorted().prefix(6).map {
        source.appendingPathComponent($0)
      }
    let root = folder.appendingPathComponent("images")
    try copy(Array(images.prefix(3)), into: root.appendingPathComponent("a"))
    try copy(Array(images.dropFirst(3)), into: root.appendingPathComponent("b"))
    return root
  }

  func testMergeRefusesAShardWithAFlippedBitAndWritesNothing() throws {
    let folder = try temporaryFolder(self, "merge-checksum")
    let images = try imageFolder(in: folder)
    let parts = try (0..<3).map { k in
      let part = folder.appendingPathComponent("part-\(k).h5").path
      let run = try runExtract(
        ["--images", images.path, "--output", part, "--shard", "\(k)/3", "--weights", "random", "--size", "32x32"]
          + ["--quiet"])
      XCTAssertEqual(run.status, 0, run.stderr)
      return part
    }
    // A copy of one shard with a bit of its rows flipped (met while the rows are copied), a copy
    // of another with a bit of its labels flipped (met when the shards are checked, first).
    func damaged(_ k: Int, _ dataset: String) throws -> (parts: [String], rows: Range<Int>) {
      let copy = folder.appendingPathComponent("damaged-\(k).h5").path
      try FileManager.default.copyItem(atPath: parts[k], toPath: copy)
      let rows = try flipStoredBit(of: dataset, in: copy, byte: 1)
      var given = parts
      given[k] = copy
      return (given, rows)
    }
    let output = folder.appendingPathComponent("merged.h5").path
    for (k, dataset) in [(1, "features"), (2, "labels/class")] {
      let (given, rows) = try damaged(k, dataset)
      let result = try runTool("merge", ["--output", output] + given)
      XCTAssertEqual(result.status, 2, result.stderr)
      XCTAssertEqual(
        result.stderr,
        "headstart merge: \(HDF5ChecksumError(file: given[k], dataset: "/" + dataset, rows: rows))\n")
      XCTAssertFalse(FileManager.default.fileExists(atPath: output), dataset)
      XCTAssertFalse(FileManager.default.fileExists(atPath: output + ".writing"), dataset)
    }
    XCTAssertEqual(try runTool("merge", ["--output", output] + parts).status, 0, "the intact shards merge")
  }
}
