import FeatureStore
import Foundation
import ToolTesting
import XCTest

@testable import Extraction

final class DatasetTests: XCTestCase {
  private var root: URL!

  override func setUpWithError() throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("headstart-dataset-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: root)
  }

  private func touch(_ relative: String) throws {
    let url = root.appendingPathComponent(relative)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data([1]).write(to: url)
  }

  func testFolderPerClassSortedBytewiseLikeFlowFromDirectory() throws {
    for path in ["dogs/b.jpg", "cats/Z.png", "cats/a.jpg", "dogs/a.jpg", "cats/.DS_Store", "cats/sub/c.jpg"] {
      try touch(path)
    }
    let dataset = try Dataset.load(root: root.path, labels: .folders)
    // Bytewise: uppercase before lowercase; hidden files skipped; subfolders searched.
    XCTAssertEqual(dataset.paths, ["cats/Z.png", "cats/a.jpg", "cats/sub/c.jpg", "dogs/a.jpg", "dogs/b.jpg"])
    XCTAssertEqual(dataset.labels, [.categorical(name: "class", classes: ["cats", "dogs"], indices: [0, 0, 0, 1, 1])])
  }

  func testFlatFolderHasNoLabelColumn() throws {
    try touch("x.jpg")
    try touch("y.jpg")
    XCTAssertEqual(try Dataset.load(root: root.path, labels: .folders).labels, [])
  }

  func testDirLabelsSplitFolderNames() throws {
    for path in ["black_jeans/1.jpg", "red_dress/2.jpg", "black_dress/3.jpg"] { try touch(path) }
    let dataset = try Dataset.load(root: root.path, labels: .splitFolders(["color", "type"]))
    XCTAssertEqual(dataset.paths, ["black_dress/3.jpg", "black_jeans/1.jpg", "red_dress/2.jpg"])
    XCTAssertEqual(
      dataset.labels,
      [
        .categorical(name: "color", classes: ["black", "red"], indices: [0, 0, 1]),
        .categorical(name: "type", classes: ["dress", "jeans"], indices: [0, 1, 0]),
      ])
  }

  func testDirLabelsWithWrongPartCountIsAUsageError() throws {
    try touch("navy_blue_jeans/1.jpg")
    XCTAssertThrowsError(try Dataset.load(root: root.path, labels: .splitFolders(["color", "type"]))) { error in
      guard case .usage(let message) = error as? ExtractError else { return XCTFail("\(error)") }
      XCTAssertTrue(message.contains("navy_blue_jeans"), message)
    }
  }

  func testManifestNumericCategoricalMissingAndAbsentFiles() throws {
    for path in ["b.jpg", "a.jpg", "sub/c.png"] { try touch(path) }
    let csv = root.appendingPathComponent("labels.csv")
    try #"""
    path,score,harmony,"note, quoted"
    b.jpg,7.5,triadic,"say ""hi"""
    ./a.jpg,,analogous,
    sub/c.png,3,,x\#r
    gone.jpg,1,triadic,y
    """#.write(to: csv, atomically: true, encoding: .utf8)
    let dataset = try Dataset.load(root: root.path, labels: .csv(csv.path))
    XCTAssertEqual(dataset.paths, ["a.jpg", "b.jpg", "sub/c.png"])
    XCTAssertEqual(dataset.missing, ["gone.jpg"])
    guard case .numeric(let name, let values) = dataset.labels[0] else { return XCTFail() }
    XCTAssertEqual(name, "score")
    XCTAssertTrue(values[0].isNaN)
    XCTAssertEqual(Array(values[1...]), [7.5, 3])
    XCTAssertEqual(
      dataset.labels[1], .categorical(name: "harmony", classes: ["analogous", "triadic"], indices: [0, 1, -1]))
    XCTAssertEqual(
      dataset.labels[2], .categorical(name: "note, quoted", classes: ["say \"hi\"", "x"], indices: [-1, 0, 1]))
  }

  func testMissingFolderAndRaggedCSVAreUsageErrors() throws {
    XCTAssertThrowsError(try Dataset.load(root: root.path + "/nope", labels: .folders)) {
      XCTAssertEqual(($0 as? ExtractError)?.exitCode, 2)
    }
    try touch("a.jpg")
    let csv = root.appendingPathComponent("bad.csv")
    try "path,score\na.jpg,1,2\n".write(to: csv, atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try Dataset.load(root: root.path, labels: .csv(csv.path))) {
      XCTAssertTrue(String(describing: $0).contains("row 2 has 3 fields"), "\($0)")
    }
  }
}
