// Every file is accounted for: a name that is not UTF-8 is extracted like any other and stored
// escaped, a backslash in a name is escaped, and hidden files are skipped, counted in the
// summary line, and read with --include-hidden.

import FeatureStore
import Foundation
import ToolTesting
import XCTest

final class FileNameTests: XCTestCase {
  private let sample = repositoryRoot.appendingPathComponent("Datasets/sample/images")

  func testLatin1AndBackslashNamesAreRowsAndHiddenFilesAreCounted() throws {
    let folder = try temporaryFolder(self, "names")
    let images = folder.appendingPathComponent("images")
    try FileManager.default.createDirectory(
      at: images.appendingPathComponent(".thumbs"), withIntermediateDirectories: true)
    let image = try Data(contentsOf: sample.appendingPathComponent("comp_000.jpg"))
    let other = try Data(contentsOf: sample.appendingPathComponent("comp_001.jpg"))
    // The same image under a plain name, a Latin-1 name and a name with a backslash.
    try image.write(to: images.appendingPathComponent("plain.jpg"))
    try writeFile(in: images, rawName: latin1CafeName, contents: image)
    try image.write(to: images.appendingPathComponent(#"back\slash.jpg"#))
    try other.write(to: images.appendingPathComponent("other.jpg"))
    try writeFile(in: images, rawName: Array("bad".utf8) + [0xFF] + Array(".jpg".utf8), contents: Data("text".utf8))
    // Hidden: a hidden file, and a file inside a hidden folder.
    try other.write(to: images.appendingPathComponent(".x.jpg"))
    try other.write(to: images.appendingPathComponent(".thumbs/y.jpg"))

    let output = folder.appendingPathComponent("f.h5")
    // One image per batch: every image's features come from the same computation, so the copies'
    // must be equal to the bit.
    let base = ["--images", images.path, "--weights", "random", "--size", "64x64", "--batch-size", "1", "--quiet"]
    let result = try runExtract(base + ["--output", output.path])
    XCTAssertEqual(result.status, 0, result.stderr)
    print(result.stdout)
    XCTAssertTrue(result.stdout.contains("extracted 4 of 5 images, 1 failed"), result.stdout)
    XCTAssertTrue(result.stdout.contains("2 hidden files skipped (--include-hidden reads them)"), result.stdout)
    let file = try FeatureFile.read(path: output.path)
    XCTAssertEqual(file.paths, [#"back\\slash.jpg"#, #"caf\xE9.jpg"#, "other.jpg", "plain.jpg"])
    XCTAssertEqual(file.failedPaths, [#"bad\xFF.jpg"#])
    XCTAssertTrue(file.failedReasons.first?.contains("unrecognised image format") == true, "\(file.failedReasons)")
    let row = rows(file)
    XCTAssertEqual(row[#"caf\xE9.jpg"#], row["plain.jpg"])
    XCTAssertEqual(row[#"back\\slash.jpg"#], row["plain.jpg"])
    XCTAssertNotEqual(row["other.jpg"], row["plain.jpg"])

    let withHidden = folder.appendingPathComponent("all.h5")
    let included = try runExtract(base + ["--output", withHidden.path, "--include-hidden"])
    XCTAssertEqual(included.status, 0, included.stderr)
    XCTAssertTrue(included.stdout.contains("extracted 6 of 7 images"), included.stdout)
    XCTAssertFalse(included.stdout.contains("hidden"), included.stdout)
    let all = try FeatureFile.read(path: withHidden.path)
    XCTAssertEqual(
      all.paths, [".thumbs/y.jpg", ".x.jpg", #"back\\slash.jpg"#, #"caf\xE9.jpg"#, "other.jpg", "plain.jpg"])
    let allRows = rows(all)
    XCTAssertEqual(allRows[".x.jpg"], row["other.jpg"])
    XCTAssertEqual(allRows[#"caf\xE9.jpg"#], row["plain.jpg"])
  }

  /// Each row's features by path.
  private func rows(_ file: FeatureFile) -> [String: [Float]] {
    var rows: [String: [Float]] = [:]
    for (index, path) in file.paths.enumerated() {
      rows[path] = Array(file.features[(index * file.dimension)..<((index + 1) * file.dimension)])
    }
    return rows
  }
}
