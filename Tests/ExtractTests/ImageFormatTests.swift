// TIFF, WebP and GIF files in an images folder are extracted like JPEGs and PNGs (not listed as
// failed), and the same pixels in different formats give the same features.

import FeatureStore
import Foundation
import ToolTesting
import XCTest

final class ImageFormatTests: XCTestCase {
  private let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures/tiff_webp_gif")

  func testEveryDecodableFixtureIsARowAndBadOnesAreFailed() throws {
    let folder = try temporaryFolder(self, "formats")
    let images = folder.appendingPathComponent("images")
    try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
    let good = try FileManager.default.contentsOfDirectory(atPath: fixtures.appendingPathComponent("src").path).sorted()
    let bad = try FileManager.default.contentsOfDirectory(atPath: fixtures.appendingPathComponent("bad").path).sorted()
    for name in good {
      try FileManager.default.copyItem(
        at: fixtures.appendingPathComponent("src/" + name), to: images.appendingPathComponent(name))
    }
    for name in bad {
      try FileManager.default.copyItem(
        at: fixtures.appendingPathComponent("bad/" + name), to: images.appendingPathComponent("bad_" + name))
    }
    let output = folder.appendingPathComponent("f.h5")
    // One image per batch, so equal pixels give features equal to the bit.
    let result = try runExtract([
      "--images", images.path, "--weights", "random", "--size", "32x32", "--batch-size", "1", "--quiet",
      "--output", output.path,
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    print(result.stdout)
    let total = good.count + bad.count
    let summary = "extracted \(good.count) of \(total) images, \(bad.count) failed"
    XCTAssertTrue(result.stdout.contains(summary), result.stdout)
    let file = try FeatureFile.read(path: output.path)
    XCTAssertEqual(file.paths, good)
    XCTAssertEqual(file.failedPaths, bad.map { "bad_" + $0 })
    func row(_ path: String) throws -> [Float] {
      let index = try XCTUnwrap(file.paths.firstIndex(of: path), path)
      return Array(file.features[(index * file.dimension)..<((index + 1) * file.dimension)])
    }
    // The same 24x16 picture: uncompressed and LZW TIFF, lossless WebP.
    XCTAssertEqual(try row("rgb8_lzw.tif"), try row("rgb8_none.tif"))
    XCTAssertEqual(try row("lossless.webp"), try row("rgb8_none.tif"))
    XCTAssertNotEqual(try row("lossy_q80.webp"), try row("rgb8_none.tif"))
  }
}
