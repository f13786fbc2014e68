// The predictions' text: CSV columns and RFC 4180 quoting, JSON lines, failed rows, and how raw
// head outputs become classes, labels over thresholds, original units and hues.

import FeatureStore
import Foundation
import Heads
import ToolTesting
import XCTest

@testable import Predicting

final class FormatTests: XCTestCase {
  let heads = handBuiltHeads(
    provenance: FeatureFileAttributes(
      backbone: "resnet50", weightsFile: "random (seed 0)", weightsSHA256: "", height: 32, width: 32,
      interpolation: "nearest", exif: "ignore", taps: ["t"], tapWidths: [4], toolVersion: "test"))

  func testReadoutMapsRawOutputsToClassesLabelsUnitsAndHues() {
    // Two rows; outputs as MultiHeadModel.predict gives them, head by head.
    let outputs: [[Float]] = [
      [0.2, 0.5, 0.3, 0.6, 0.3, 0.1],  // style: softmax (2, 3)
      [0.45, 0.54, 0.2, 0.56],  // tags: sigmoid (2, 2), thresholds 0.45 and 0.55
      [-1, 0.5],  // score: tanh (2, 1), range 1...10
      [3, 0],  // hue: nearest class index (2, 1)
    ]
    let rows = readHeads(heads, outputs: outputs, rows: 2)
    XCTAssertEqual(
      rows[0],
      [
        .classification(predicted: "busy, loud", probabilities: [0.2, 0.5, 0.3]),
        .labels(["warm"], probabilities: [0.45, 0.54]), .values([1]), .hue("Blue"),
      ])
    XCTAssertEqual(
      rows[1],
      [
        .classification(predicted: "calm", probabilities: [0.6, 0.3, 0.1]),
        .labels(["high_contrast"], probabilities: [0.2, 0.56]), .values([7.75]), .hue("Red"),
      ])
  }

  func testCSVQuotesAsRFC4180AndReadsBack() throws {
    let formatter = PredictionFormatter(heads: heads, format: .csv)
    XCTAssertEqual(
      formatter.header,
      "path,status,error,style,style:calm,\"style:busy, loud\",\"style:\"\"quoted\"\"\",tags,tags:warm,"
        + "tags:high_contrast,score,hue\n")
    let ok = PredictionRecord(
      path: "odd, \"name\"\nwith a line break.jpg", failure: nil,
      heads: [
        .classification(predicted: "\"quoted\"", probabilities: [0.25, 0.125, 0.625]),
        .labels([], probabilities: [0.1, 0.2]), .values([2.5]), .hue("Green"),
      ])
    let failed = PredictionRecord(path: "plain.jpg", failure: "not a JPEG or PNG image (starts with \"ab\")", heads: [])
    XCTAssertEqual(
      formatter.line(ok),
      "\"odd, \"\"name\"\"\nwith a line break.jpg\",ok,,\"\"\"quoted\"\"\",0.25,0.125,0.625,-,0.1,0.2,2.5,Green\n")
    XCTAssertEqual(
      formatter.line(failed), "plain.jpg,failed,\"not a JPEG or PNG image (starts with \"\"ab\"\")\",,,,,,,,,\n")
    let table = try CSVTable(text: formatter.header + formatter.line(ok) + formatter.line(failed))
    XCTAssertEqual(table.header, formatter.columns)
    XCTAssertEqual(table.rows[0][0], ok.path)
    XCTAssertEqual(table.rows[0][3], "\"quoted\"")
    XCTAssertEqual(table.rows[1][2], failed.failure)
    XCTAssertEqual(table.rows[1].count, 12)
  }

  func testJSONLinesAreOneObjectPerImage() throws {
    let formatter = PredictionFormatter(heads: heads, format: .jsonl)
    XCTAssertEqual(formatter.header, "")
    let ok = PredictionRecord(
      path: "tab\there \u{1}.jpg", failure: nil,
      heads: [
        .classification(predicted: "calm", probabilities: [0.5, 0.25, 0.25]),
        .labels(["warm", "high_contrast"], probabilities: [0.9, 0.75]), .values([9.5]), .hue("Yellow"),
      ])
    let line = formatter.line(ok)
    XCTAssertTrue(line.hasSuffix("}\n"))
    XCTAssertEqual(line.filter { $0 == "\n" }.count, 1, "one line per image")
    XCTAssertEqual(
      line,
      "{\"path\": \"tab\\there \\u0001.jpg\", \"status\": \"ok\", \"style\": {\"class\": \"calm\", "
        + "\"probabilities\": {\"calm\": 0.5, \"busy, loud\": 0.25, \"\\\"quoted\\\"\": 0.25}}, \"tags\": "
        + "{\"labels\": [\"warm\", \"high_contrast\"], \"probabilities\": {\"warm\": 0.9, \"high_contrast\": 0.75}}, "
        + "\"score\": 9.5, \"hue\": \"Yellow\"}\n")
    let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    XCTAssertEqual(object["path"] as? String, ok.path)
    let failed = formatter.line(PredictionRecord(path: "x.png", failure: "empty file", heads: []))
    XCTAssertEqual(failed, "{\"path\": \"x.png\", \"status\": \"failed\", \"error\": \"empty file\"}\n")
  }

  func testOutputFormatComesFromTheExtensionOrTheOption() throws {
    var options = PredictOptions(heads: "h.h5", images: ["i"])
    XCTAssertEqual(try options.resolvedFormat(), .csv, "standard output defaults to CSV")
    options.output = "out/p.JSONL"
    XCTAssertEqual(try options.resolvedFormat(), .jsonl)
    options.output = "p.ndjson"
    XCTAssertEqual(try options.resolvedFormat(), .jsonl)
    options.output = "p.txt"
    XCTAssertThrowsError(try options.resolvedFormat()) { error in
      XCTAssertEqual((error as? PredictError)?.exitCode, 2)
    }
    options.format = .csv
    XCTAssertEqual(try options.resolvedFormat(), .csv)
  }

  func testRandomSeedIsReadFromTheProvenance() {
    var provenance = heads.provenance
    XCTAssertEqual(PredictionModel.randomSeed(provenance), 0)
    provenance.weightsFile = "random (seed 4294967295)"
    XCTAssertEqual(PredictionModel.randomSeed(provenance), 4_294_967_295)
    provenance.weightsSHA256 = "ab"
    XCTAssertNil(PredictionModel.randomSeed(provenance))
    provenance.weightsSHA256 = ""
    provenance.weightsFile = "/models/random (seed 3).h5"
    XCTAssertNil(PredictionModel.randomSeed(provenance))
  }
}
