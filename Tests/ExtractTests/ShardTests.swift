// `extract --shard K/N` and `merge` through the built `headstart`, against a single run over the
// same images: the merged file has the same paths in the same order, labels and classes, /failed
// and attributes, and the same features (measured here: bit-identical, the per-image arithmetic
// does not depend on which images share a batch). Also the slicing rule itself, every refusal of
// merge, and a retried finished shard.

import FeatureStore
import Foundation
import ToolTesting
import XCTest

final class ShardTests: XCTestCase {
  /// 13 real images in two class folders and two unreadable files, one per class: `a/` holds 4
  /// files, `b/` 11, so with N = 4 the first shard sees class a only, and the two failures land
  /// in different shards.
  private func imageFolder() throws -> URL {
    let root = try temporaryFolder(self, "shards").appendingPathComponent("images")
    let images = try FileManager.default.contentsOfDirectory(
      atPath: fixturesDirectory.appendingPathComponent("images").path
    )
    .filter { $0.hasSuffix(".jpg") || $0.hasSuffix(".png") }.sorted()
    let source = fixturesDirectory.appendingPathComponent("images")
    try copy(images.prefix(3).map { source.appendingPathComponent($0) }, into: root.appendingPathComponent("a"))
    try copy(images.dropFirst(3).map { source.appendingPathComponent($0) }, into: root.appendingPathComponent("b"))
    try Data("not an image".utf8).write(to: root.appendingPathComponent("a/zz_broken.jpg"))
    try Data([0xFF, 0xD8, 0xFF]).write(to: root.appendingPathComponent("b/zz_truncated.jpg"))
    return root
  }

  private let common = ["--weights", "random", "--size", "32x32", "--batch-size", "2", "--quiet"]

  /// Extracts every shard of N and merges them; returns the merged file's path.
  private func shardAndMerge(_ images: URL, n: Int, extra: [String] = [], in folder: URL) throws -> String {
    var parts: [String] = []
    for k in (0..<n).reversed() {  // any order
      let part = folder.appendingPathComponent("part-\(k)-of-\(n).h5").path
      let run = try runExtract(["--images", images.path, "--output", part, "--shard", "\(k)/\(n)"] + common + extra)
      XCTAssertEqual(run.status, 0, "shard \(k)/\(n): \(run.stderr)")
      parts.append(part)
    }
    let merged = folder.appendingPathComponent("merged-\(n).h5").path
    let merge = try runTool("merge", ["--output", merged, "--quiet"] + parts)
    XCTAssertEqual(merge.status, 0, merge.stderr)
    return merged
  }

  private func assertSameFile(_ merged: String, _ single: String, _ label: String) throws {
    let a = try FeatureFile.read(path: single)
    let b = try FeatureFile.read(path: merged)
    XCTAssertTrue(b.complete, label)
    XCTAssertEqual(b.paths, a.paths, label)
    XCTAssertEqual(b.labels, a.labels, label)
    XCTAssertEqual(b.failedPaths, a.failedPaths, label)
    XCTAssertEqual(b.failedReasons, a.failedReasons, label)
    XCTAssertEqual(b.attributes, a.attributes, label)
    XCTAssertNil(b.attributes.shard, label)
    XCTAssertEqual(b.dimension, a.dimension, label)
    let worst = zip(a.features, b.features).map { abs($0 - $1) }.max() ?? 0
    XCTAssertEqual(b.features.count, a.features.count, label)
    XCTAssertLessThanOrEqual(worst, 1e-6, label)
    print("\(label): \(b.rowCount) rows, \(b.failedPaths.count) failed, max |merged - single| = \(worst)")
  }

  func testSlicesDifferByAtMostOneAndCoverEveryRowInOrder() {
    for total in [0, 1, 5, 13, 100] {
      for n in [1, 2, 3, 7, 13, 20] {
        let slices = (0..<n).map { ShardSpec(index: $0, count: n).rows(of: total) }
        XCTAssertEqual(slices.flatMap { Array($0) }, Array(0..<total), "\(total) rows, N = \(n)")
        let sizes = slices.map(\.count)
        XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1, "\(total) rows, N = \(n)")
      }
    }
    XCTAssertEqual(ShardSpec(parsing: "3/16"), ShardSpec(index: 3, count: 16))
    for bad in ["16/16", "-1/4", "1/0", "1", "a/b", "1/2/3", ""] { XCTAssertNil(ShardSpec(parsing: bad), bad) }
  }

  func testMergedShardsEqualASingleRun() throws {
    let images = try imageFolder()
    let folder = images.deletingLastPathComponent()
    let single = folder.appendingPathComponent("single.h5").path
    let run = try runExtract(["--images", images.path, "--output", single] + common)
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertEqual(try FeatureFile.read(path: single, features: false).failedPaths.count, 2)
    // N = 1, 3, 4 (the first shard sees only class a), 7, and more shards than images (empty ones).
    for n in [1, 3, 4, 7, 20] {
      try assertSameFile(try shardAndMerge(images, n: n, in: folder), single, "N = \(n)")
    }
    let first = try FeatureFile.read(path: folder.appendingPathComponent("part-0-of-4.h5").path, features: false)
    guard case .categorical(_, let classes, let indices)? = first.labels.first else { return XCTFail("no class") }
    XCTAssertEqual(classes, ["a", "b"], "a shard numbers the classes of the whole dataset")
    XCTAssertEqual(Set(indices), [0])
  }

  func testCSVManifestWithAMissingFile() throws {
    let images = try imageFolder()
    let folder = images.deletingLastPathComponent()
    let names = listing(images.appendingPathComponent("b")).prefix(6)
    let csv = folder.appendingPathComponent("labels.csv")
    try (["path,score"] + names.enumerated().map { "b/\($1),\($0)" } + ["b/not_there.jpg,9"])
      .joined(separator: "\n").write(to: csv, atomically: true, encoding: .utf8)
    let single = folder.appendingPathComponent("single-csv.h5").path
    let run = try runExtract(["--images", images.path, "--labels", csv.path, "--output", single] + common)
    XCTAssertEqual(run.status, 0, run.stderr)
    try assertSameFile(
      try shardAndMerge(images, n: 4, extra: ["--labels", csv.path], in: folder), single, "CSV manifest, N = 4")
  }

  func testMergeRefusesPartsThatDoNotMakeOneRunAndWritesNothing() throws {
    let images = try imageFolder()
    let folder = images.deletingLastPathComponent()
    func part(_ k: Int, _ n: Int, _ extra: [String] = [], name: String? = nil) throws -> String {
      let path = folder.appendingPathComponent(name ?? "p\(k)-\(n).h5").path
      let run = try runExtract(["--images", images.path, "--output", path, "--shard", "\(k)/\(n)"] + common + extra)
      XCTAssertEqual(run.status, 0, run.stderr)
      return path
    }
    let (p0, p1, p2) = (try part(0, 3), try part(1, 3), try part(2, 3))
    let otherSize = try part(1, 3, ["--size", "40x40"], name: "size.h5")
    let otherN = try part(1, 4)
    let whole = folder.appendingPathComponent("whole.h5").path
    XCTAssertEqual(try runExtract(["--images", images.path, "--output", whole] + common).status, 0)
    // Another dataset: one image fewer.
    try FileManager.default.removeItem(at: images.appendingPathComponent("a/zz_broken.jpg"))
    let otherData = try part(1, 3, name: "data.h5")
    let output = folder.appendingPathComponent("merged.h5").path
    let cases: [([String], String)] = [
      ([p0, p2], "missing (1/3)"),
      ([p0, p1, p1, p2], "given twice"),
      ([p0, otherSize, p2], "other settings"),
      ([p0, p1, p2, otherN], "different runs"),
      ([p0, otherData, p2], "another dataset"),
      ([p0, whole, p2], "not a shard file"),
      ([p0, p1, folder.appendingPathComponent("none.h5").path], "none.h5"),
      (
        [
          p0, p1, p2,
          images.appendingPathComponent("b").appendingPathComponent(listing(images.appendingPathComponent("b"))[0])
            .path,
        ], "b/"
      ),
    ]
    for (parts, mention) in cases {
      let result = try runTool("merge", ["--output", output] + parts)
      XCTAssertEqual(result.status, 2, "\(mention): \(result.stderr)")
      XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
      XCTAssertTrue(result.stderr.contains(mention), "\(mention): \(result.stderr)")
      XCTAssertFalse(FileManager.default.fileExists(atPath: output), mention)
      XCTAssertFalse(FileManager.default.fileExists(atPath: output + ".writing"), mention)
    }
    // The output may not be one of the shards.
    let onto = try runTool("merge", ["--output", p0, p0, p1, p2])
    XCTAssertEqual(onto.status, 2, onto.stderr)
  }

  func testARetriedFinishedShardChangesNothing() throws {
    let images = try imageFolder()
    let part = images.deletingLastPathComponent().appendingPathComponent("part.h5").path
    let arguments = ["--images", images.path, "--output", part, "--shard", "1/3"] + common
    XCTAssertEqual(try runExtract(arguments).status, 0)
    let before = try Data(contentsOf: URL(fileURLWithPath: part))
    let modified = try FileManager.default.attributesOfItem(atPath: part)[.modificationDate] as? Date
    let again = try runExtract(arguments.filter { $0 != "--quiet" })
    XCTAssertEqual(again.status, 0, again.stderr)
    XCTAssertTrue(again.stderr.contains("nothing to do"), again.stderr)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: part)), before)
    XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: part)[.modificationDate] as? Date, modified)
    // Another shard into the same file is refused, the file kept.
    let other = try runExtract(["--images", images.path, "--output", part, "--shard", "2/3"] + common)
    XCTAssertEqual(other.status, 2, other.stderr)
    XCTAssertTrue(other.stderr.contains("not shard 2/3"), other.stderr)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: part)), before)
    // A malformed shard is refused by the parser.
    let malformed = try runExtract(["--images", images.path, "--output", part + "x", "--shard", "3/3"] + common)
    XCTAssertEqual(malformed.status, 2)
    XCTAssertTrue(malformed.stderr.contains("--shard 3/3"), malformed.stderr)
  }
}
