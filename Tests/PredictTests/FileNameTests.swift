// predict lists a folder by extract's rule: a name that is not UTF-8 is predicted and reported
// under its stored (escaped) path, hidden files are skipped and counted, or read with
// --include-hidden.

import Foundation
import ToolTesting
import XCTest

final class FileNameTests: XCTestCase {
  func testLatin1NameIsPredictedUnderItsStoredPathAndHiddenFilesAreCounted() throws {
    let folder = try temporaryFolder(self, "predict-names")
    let images = folder.appendingPathComponent("images")
    try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
    let fixtures = fixturesDirectory.appendingPathComponent("images")
    let image = try Data(contentsOf: fixtures.appendingPathComponent("astronaut_baseline_q90_256x256.jpg"))
    try image.write(to: images.appendingPathComponent("plain.jpg"))
    try writeFile(in: images, rawName: latin1CafeName, contents: image)
    try image.write(to: images.appendingPathComponent(".x.jpg"))
    let heads = try randomWeightsHeadsFile(in: folder)
    let output = folder.appendingPathComponent("p.csv").path
    let base = ["--heads", heads, "--weights", "random", "--images", images.path, "--batch-size", "1"]

    let result = try runTool("predict", base + ["--output", output])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(result.stderr.contains("1 hidden file skipped (--include-hidden reads them)"), result.stderr)
    let records = try csvRecords(output).rows
    XCTAssertEqual(records.map { $0["path"] }, [#"caf\xE9.jpg"#, "plain.jpg"])
    XCTAssertEqual(records.map { $0["status"] }, ["ok", "ok"])
    var latin1 = records[0]
    latin1["path"] = "plain.jpg"
    XCTAssertEqual(latin1, records[1], "the same image under two names")

    let included = try runTool("predict", base + ["--output", output, "--include-hidden"])
    XCTAssertEqual(included.status, 0, included.stderr)
    XCTAssertFalse(included.stderr.contains("hidden"), included.stderr)
    XCTAssertEqual(try csvRecords(output).rows.map { $0["path"] }, [".x.jpg", #"caf\xE9.jpg"#, "plain.jpg"])
  }
}
