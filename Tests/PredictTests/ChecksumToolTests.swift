// A heads file with one flipped bit in a head's weights, through the built `predict`: refused
// before any image is read, with one line naming the file, the dataset and its rows (exit 2,
// nothing written), where the intact file predicts.

import Foundation
import ToolTesting
import XCTest

final class ChecksumToolTests: XCTestCase {
  func testAFlippedBitInTheHeadsWeightsIsRefusedWithOneLine() throws {
    let folder = try temporaryFolder(self, "predict-checksum")
    let images = folder.appendingPathComponent("images")
    try writeImageFolder(images)
    let heads = try randomWeightsHeadsFile(in: folder)
    let output = folder.appendingPathComponent("p.csv").path
    let arguments = ["--heads", heads, "--weights", "random", "--images", images.path, "--output", output, "--quiet"]
    XCTAssertEqual(try runTool("predict", arguments).status, 0, "the intact file predicts")
    try FileManager.default.removeItem(atPath: output)

    // The hidden layer of head `style`: (2048, 5), one chunk.
    XCTAssertEqual(try flipStoredBit(of: "heads/style/style_hidden/kernel", in: heads, byte: 4 * 777 + 3), 0..<2048)
    let result = try runTool("predict", arguments)
    XCTAssertEqual(result.status, 2, result.stderr)
    XCTAssertEqual(
      result.stderr,
      "headstart predict: --heads \(heads): /heads/style/style_hidden/kernel rows 0..<2048 fail their checksum "
        + "(the file is corrupt)\n")
    XCTAssertEqual(result.stdout, "")
    XCTAssertFalse(FileManager.default.fileExists(atPath: output))
  }
}
