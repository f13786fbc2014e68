// A feature file with one flipped bit, through the built `fit-heads`: refused with one line and
// exit 2 whichever way the rows are read (mapped in place, through HDF5 with --taps, streamed
// under --max-memory), and for a label column too; the same bit flipped in a file of the
// earlier layout (no checksums) is trained on without a word, which is what checksums prevent.

import FeatureStore
import Foundation
import Support
import ToolTesting
import XCTest

final class ChecksumToolTests: XCTestCase {
  private lazy var folder: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fit-heads-checksum-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
  }()

  /// 600 rows of 2048 L2-normalised features (chunks of 128 rows, as extract writes them) and a
  /// two-class column `class`.
  private func writeFile(_ name: String, checksums: Bool) throws -> String {
    let (n, d) = (600, 2048)
    var g = SplitMix64(seed: 12)
    let features = normalizedGaussianRows(n, d, using: &g)
    let path = folder.appendingPathComponent(name).path
    let writer = try FeatureFileWriter(
      path: path,
      attributes: FeatureFileAttributes(
        backbone: "resnet50", weightsFile: "synthetic", weightsSHA256: "", height: 224, width: 224,
        interpolation: "nearest", exif: "ignore", taps: ["avg_pool"], tapWidths: [d], toolVersion: "test"),
      dimension: d, checksums: checksums)
    try features.withUnsafeBufferPointer { try writer.appendRows($0) }
    try writer.finish(
      paths: (0..<n).map { String(format: "img_%04d.jpg", $0) },
      labels: [
        .categorical(name: "class", classes: ["a", "b"], indices: (0..<n).map { Int32(features[$0 * d] > 0 ? 1 : 0) })
      ], failedPaths: [], failedReasons: [])
    return path
  }

  private func fit(_ path: String, _ extra: [String] = []) throws -> ToolResult {
    let heads = folder.appendingPathComponent("heads.h5").path
    try? FileManager.default.removeItem(atPath: heads)
    return try runTool(
      "fit-heads",
      ["--features", path, "--head", "c=softmax:class", "--epochs", "1", "--output", heads, "--quiet"] + extra)
  }

  func testAFlippedBitIsRefusedWithOneLineHoweverTheRowsAreRead() throws {
    let path = try writeFile("features.h5", checksums: true)
    XCTAssertEqual(try fit(path).status, 0, "the intact file trains")
    // Row 300, feature 5, its third byte.
    XCTAssertEqual(try flipStoredBit(of: "features", in: path, chunk: 2, byte: (44 * 2048 + 5) * 4 + 2), 256..<384)
    let line =
      "headstart fit-heads: --features \(path): /features rows 256..<384 fail their checksum (the file is corrupt)\n"
    let ways: [(String, [String])] = [
      ("mapped", []), ("--taps", ["--taps", "avg_pool"]), ("streamed", ["--max-memory", "1M"]),
    ]
    for (how, extra) in ways {
      let result = try fit(path, extra)
      XCTAssertEqual(result.status, 2, "\(how): \(result.stderr)")
      XCTAssertEqual(result.stderr, line, how)
      XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("heads.h5").path), how)
    }

    let labels = try writeFile("labels.h5", checksums: true)
    try flipStoredBit(of: "labels/class", in: labels, byte: 4 * 17)
    let result = try fit(labels)
    XCTAssertEqual(result.status, 2, result.stderr)
    XCTAssertEqual(
      result.stderr,
      "headstart fit-heads: --features \(labels): /labels/class rows 0..<600 fail their checksum (the file is corrupt)\n"
    )
  }

  func testTheSameFlipInAFileOfTheEarlierLayoutIsTrainedOnSilently() throws {
    let path = try writeFile("old.h5", checksums: false)
    try flipStoredBit(of: "features", in: path, chunk: 2, byte: (44 * 2048 + 5) * 4 + 2)
    let ways: [[String]] = [[], ["--taps", "avg_pool"], ["--max-memory", "1M"]]
    for extra in ways {
      let result = try fit(path, extra)
      XCTAssertEqual(result.status, 0, "\(extra): \(result.stderr)")
    }
  }
}
