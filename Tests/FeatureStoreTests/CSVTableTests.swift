// The CSV reader and label typing `extract --labels` and `fit-heads --labels` share, and the
// bundled sample's multi-label `tags` column checked against the columns it is derived from.

import FeatureStore
import Foundation
import XCTest

final class CSVTableTests: XCTestCase {
  func testQuotesLineEndsAndBlankLines() throws {
    let table = try CSVTable(text: "path, note \r\n\"a,b.jpg\",\"say \"\"hi\"\"\"\n\nc.jpg,x")
    XCTAssertEqual(table.header, ["path", "note"])
    XCTAssertEqual(table.rows, [["a,b.jpg", "say \"hi\""], ["c.jpg", "x"]])
  }

  func testProblemsAreNamed() {
    let cases = [
      ("", "the file is empty"), ("a,b\n\"x,y\n", "a quoted field is never closed"),
      ("a,b\n1,2\n3\n", "row 3 has 1 fields, the header has 2"),
    ]
    for (text, problem) in cases {
      XCTAssertThrowsError(try CSVTable(text: text)) { XCTAssertEqual($0 as? CSVError, CSVError(problem)) }
    }
    XCTAssertThrowsError(try CSVTable(contentsOf: "/nonexistent/labels.csv")) {
      XCTAssertEqual($0 as? CSVError, CSVError("cannot read the file"))
    }
  }

  func testNumbersVersusClassesAndMissingCells() {
    XCTAssertEqual(
      LabelColumn.inferred(name: "s", cells: ["1.5", " ", "2"]), .numeric(name: "s", values: [1.5, .nan, 2]))
    XCTAssertEqual(
      LabelColumn.inferred(name: "c", cells: ["b", "", "a", "3"]),
      .categorical(name: "c", classes: ["3", "a", "b"], indices: [2, -1, 1, 0]))
    XCTAssertEqual(
      LabelColumn.inferred(name: "e", cells: ["", ""]), .categorical(name: "e", classes: [], indices: [-1, -1]))
    XCTAssertEqual(normalisedRelativePath(" ././png/a.png "), "png/a.png")
  }

  /// `tags` must say exactly what Datasets/make_sample.py derives it from; a drifted column
  /// would train multi-label heads on wrong labels without anyone noticing.
  func testSampleTagsAreTrueByConstruction() throws {
    let csv = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Datasets/sample/labels.csv")
    let table = try CSVTable(contentsOf: csv.path)
    XCTAssertEqual(
      table.header, ["path", "balance", "contrast", "complexity", "harmony", "primary_color", "split", "tags"])
    let column = Dictionary(uniqueKeysWithValues: table.header.enumerated().map { ($1, $0) })
    var counts: [String: Int] = [:]
    for row in table.rows {
      var expected: [String] = []
      if ["Red", "Orange", "Yellow"].contains(row[column["primary_color"]!]) { expected.append("warm") }
      if try XCTUnwrap(Double(row[column["contrast"]!])) >= 7 { expected.append("high_contrast") }
      if try XCTUnwrap(Int(row[column["complexity"]!])) >= 7 { expected.append("busy") }
      let tags = row[column["tags"]!]
      XCTAssertEqual(tags, expected.isEmpty ? "-" : expected.joined(separator: ";"), row[0])
      for tag in expected { counts[tag, default: 0] += 1 }
      if expected.isEmpty { counts["-", default: 0] += 1 }
    }
    XCTAssertEqual(table.rows.count, 240)
    XCTAssertEqual(counts, ["warm": 60, "high_contrast": 46, "busy": 86, "-": 94])
  }
}
