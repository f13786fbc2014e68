// A head on its own taps (`taps:` in a heads file, `--head NAME=KIND:COLUMN@TAP+TAP`), through
// the built tool, on the two-tap file whose labels are true by construction (ToolRunner.swift):
// tag x is the sign of tap a's first column, tag y the sign of tap b's first column, `sign` the
// sign of tap a's second column.

import FeatureStore
import Foundation
import XCTest

@testable import Fitting
@testable import Heads

final class HeadTapsTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("fit-heads-taps-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  func testEachHeadLearnsFromItsOwnTapsOnly() throws {
    let features = try writeTwoTapFile(in: folder)
    let metrics = folder.appendingPathComponent("m.json").path
    let heads = folder.appendingPathComponent("h.h5").path
    let yaml = folder.appendingPathComponent("heads.yaml").path
    try """
    heads:
      - {name: on_a, kind: sigmoid, column: tags, taps: [a]}
      - {name: on_b, kind: sigmoid, column: tags, taps: [b], hidden: [8]}
    """.write(toFile: yaml, atomically: true, encoding: .utf8)
    let result = try runFitHeads([
      "--features", features, "--heads", yaml, "--head", "both=sigmoid:tags", "--epochs", "60", "--patience", "60",
      "--metrics", metrics, "--output", heads, "--quiet",
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    func auc(_ head: String, _ label: String) throws -> Double {
      let labels = try sigmoidLabels(try headMetrics(metrics, head: head), split: "val")
      return try XCTUnwrap(labels[label]?["roc_auc"] as? Double)
    }
    // A head that read the other tap too would separate both tags.
    XCTAssertGreaterThan(try auc("on_a", "x"), 0.97)
    XCTAssertLessThan(try auc("on_a", "y"), 0.75)
    XCTAssertGreaterThan(try auc("on_b", "y"), 0.97)
    XCTAssertLessThan(try auc("on_b", "x"), 0.75)
    XCTAssertGreaterThan(try auc("both", "x"), 0.97)
    XCTAssertGreaterThan(try auc("both", "y"), 0.97)

    // The heads file records each head's taps and stores the kernel Keras would have (a Dense on
    // those taps alone); read back, the model's other rows are zero.
    let saved = try HeadsFile.read(path: heads)
    XCTAssertEqual(saved.headTaps, ["on_a": ["a"], "on_b": ["b"]])
    let columns = Dictionary(uniqueKeysWithValues: saved.specs.map { ($0.name, $0.inputColumns) })
    XCTAssertEqual(columns, ["on_a": [0..<4], "on_b": [4..<7], "both": nil])
    let model = saved.model
    func firstKernelRow(_ head: String, _ row: Int) throws -> [Float] {
      let slot = model.slots[try XCTUnwrap(saved.specs.firstIndex { $0.name == head })][0]
      let start = slot.kernel.lowerBound + row * slot.outputs
      return Array(model.parameters[start..<(start + slot.outputs)])
    }
    for row in 4..<7 { XCTAssertEqual(try firstKernelRow("on_a", row), [0, 0]) }
    for row in 0..<4 { XCTAssertEqual(try firstKernelRow("on_b", row), [Float](repeating: 0, count: 8)) }
    XCTAssertNotEqual(try firstKernelRow("on_a", 0), [0, 0])
  }

  func testAHeadDoesNotSeeTheOtherTaps() throws {
    // The same rows and labels, tap b replaced by noise: a head on tap a trains to the same bits.
    let plain = try writeTwoTapFile(in: folder, name: "plain.h5")
    let noisy = try writeTwoTapFile(in: folder, name: "noisy.h5", noiseInB: 99)
    var parameters: [[Float]] = []
    for (features, name) in [(plain, "p.h5"), (noisy, "n.h5")] {
      let heads = folder.appendingPathComponent(name).path
      let result = try runFitHeads([
        "--features", features, "--head", "s=softmax:sign@a", "--head", "w=tanh:score@a", "--epochs", "5",
        "--output", heads, "--quiet",
      ])
      XCTAssertEqual(result.status, 0, result.stderr)
      parameters.append(try HeadsFile.read(path: heads).parameters)
    }
    XCTAssertEqual(parameters[0], parameters[1])
    // And a head on every tap does see them (the test can fail).
    var everyTap: [[Float]] = []
    for (features, name) in [(plain, "pa.h5"), (noisy, "na.h5")] {
      let heads = folder.appendingPathComponent(name).path
      let result = try runFitHeads([
        "--features", features, "--head", "s=softmax:sign", "--epochs", "5", "--output", heads, "--quiet",
      ])
      XCTAssertEqual(result.status, 0, result.stderr)
      everyTap.append(try HeadsFile.read(path: heads).parameters)
    }
    XCTAssertNotEqual(everyTap[0], everyTap[1])
  }

  func testInlineSyntaxAndItsRefusals() throws {
    let request = try HeadRequest.parse("color=softmax:primary_color@block1_pool+block2_pool")
    XCTAssertEqual(request.column, "primary_color")
    XCTAssertEqual(request.taps, ["block1_pool", "block2_pool"])
    XCTAssertNil(try HeadRequest.parse("h=softmax:harmony").taps)
    for bad in ["h=softmax:c@", "h=softmax:@a", "h=softmax:c@a+", "h=softmax:c@a++b"] {
      XCTAssertThrowsError(try HeadRequest.parse(bad), bad)
    }
    let features = try writeTwoTapFile(in: folder)
    let out = folder.appendingPathComponent("x.h5").path
    let cases: [([String], String)] = [
      (["--head", "s=softmax:sign@c"], "head 's': no tap 'c' in the feature file (it has: a, b)"),
      (["--head", "s=softmax:sign@a+a"], "head 's': taps must name at least one tap, each once"),
      (["--taps", "b", "--head", "s=softmax:sign@a"], "head 's': tap 'a' is not among --taps b; add it there"),
    ]
    for (arguments, message) in cases {
      let result = try runFitHeads(["--features", features] + arguments + ["--output", out, "--quiet"])
      XCTAssertEqual(result.status, 2, "\(arguments)")
      XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
      XCTAssertTrue(result.stderr.contains(message), result.stderr)
      XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
  }
}
