// `fit-heads --labels`, `--taps` and multi-label sigmoid heads, through the built tool, on a
// feature file whose labels are true by construction (ToolRunner.swift).

import FeatureStore
import Foundation
import HDF5
import Heads
import ToolTesting
import XCTest

@testable import Fitting

final class MultiLabelToolTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("fit-heads-ml-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  func testSemicolonLabelSetsTrainOneSigmoidPerLabel() throws {
    let features = try writeTwoTapFile(in: folder)
    let metrics = folder.appendingPathComponent("m.json").path
    let heads = folder.appendingPathComponent("h.h5").path
    let result = try runFitHeads([
      "--features", features, "--head", "tags=sigmoid:tags", "--head", "sign=sigmoid:sign", "--epochs", "60",
      "--patience", "60", "--metrics", metrics, "--output", heads, "--quiet",
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    print(result.stdout)
    let saved = try HeadsFile.read(path: heads)
    // Vocabulary sorted, `-` (the empty set) is not a label; the binary head keeps one output
    // named after its positive class.
    XCTAssertEqual(saved.classNames["tags"], ["x", "y"])
    XCTAssertEqual(saved.specs.first { $0.name == "tags" }?.outputs, 2)
    XCTAssertEqual(saved.thresholds["tags"]?.count, 2)
    XCTAssertEqual(saved.classNames["sign"], ["pos"])
    // finetune reads the separator back to split its own label cells; binary heads have none.
    XCTAssertEqual(saved.separators, ["tags": ";"])
    let tags = try sigmoidLabels(try headMetrics(metrics, head: "tags"), split: "val")
    // x and y are signs of single feature coordinates: linearly separable, so a linear head
    // gets nearly all right; a head that mixed up the labels or rows would sit near 0.5.
    for name in ["x", "y"] {
      let label = try XCTUnwrap(tags[name])
      print(name, label["accuracy_at_threshold"] ?? "", label["roc_auc"] ?? "")
      XCTAssertGreaterThan(try XCTUnwrap(label["roc_auc"] as? Double), 0.97, name)
      XCTAssertGreaterThan(try XCTUnwrap(label["accuracy_at_half"] as? Double), 0.85, name)
    }
    // 60 val rows (rows 280..<340), of which rows 299 and 324 have no label set.
    XCTAssertEqual(tags["x"]?["count"] as? Int, 58)
    let sign = try sigmoidLabels(try headMetrics(metrics, head: "sign"), split: "val")
    XCTAssertEqual(Array(sign.keys), ["pos"])
    XCTAssertGreaterThan(try XCTUnwrap(sign["pos"]?["roc_auc"] as? Double), 0.97)
  }

  func testFolderNamesSplitOnUnderscoreWithSeparator() throws {
    let features = try writeTwoTapFile(in: folder)
    let yaml = folder.appendingPathComponent("heads.yaml")
    try """
    heads:
      - name: fold
        kind: sigmoid
        column: fold
        separator: "_"
    """.write(to: yaml, atomically: true, encoding: .utf8)
    let heads = folder.appendingPathComponent("h.h5").path
    let metrics = folder.appendingPathComponent("m.json").path
    let result = try runFitHeads([
      "--features", features, "--heads", yaml.path, "--epochs", "60", "--patience", "60", "--output", heads,
      "--metrics", metrics, "--quiet",
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    // `no_y` splits into `no` and `y`: the literal parts are the labels, sorted.
    let saved = try HeadsFile.read(path: heads)
    XCTAssertEqual(saved.classNames["fold"], ["no", "x", "y"])
    XCTAssertEqual(saved.separators, ["fold": "_"])
    let labels = try sigmoidLabels(try headMetrics(metrics, head: "fold"), split: "val")
    XCTAssertGreaterThan(try XCTUnwrap(labels["y"]?["roc_auc"] as? Double), 0.97)
  }

  func testTapsPickColumnsAndNarrowTheProvenance() throws {
    let features = try writeTwoTapFile(in: folder)
    let heads = folder.appendingPathComponent("h.h5").path
    let metrics = folder.appendingPathComponent("m.json").path
    // `y` depends on tap b only: trained on b it is learnable, on a it is chance.
    let onB = try runFitHeads([
      "--features", features, "--taps", "b", "--head", "tags=sigmoid:tags", "--epochs", "60", "--patience", "60",
      "--output", heads, "--metrics", metrics, "--quiet",
    ])
    XCTAssertEqual(onB.status, 0, onB.stderr)
    let saved = try HeadsFile.read(path: heads)
    XCTAssertEqual(saved.provenance.taps, ["b"])
    XCTAssertEqual(saved.provenance.tapWidths, [3])
    XCTAssertEqual(saved.inputWidth, 3)
    let bLabels = try sigmoidLabels(try headMetrics(metrics, head: "tags"), split: "val")
    let yOnB = try XCTUnwrap(bLabels["y"]?["roc_auc"] as? Double)
    let xOnB = try XCTUnwrap(bLabels["x"]?["roc_auc"] as? Double)
    let onA = try runFitHeads([
      "--features", features, "--taps", "a", "--head", "tags=sigmoid:tags", "--epochs", "60", "--patience", "60",
      "--metrics", metrics, "--quiet",
    ])
    XCTAssertEqual(onA.status, 0, onA.stderr)
    let aLabels = try sigmoidLabels(try headMetrics(metrics, head: "tags"), split: "val")
    let yOnA = try XCTUnwrap(aLabels["y"]?["roc_auc"] as? Double)
    let xOnA = try XCTUnwrap(aLabels["x"]?["roc_auc"] as? Double)
    print("AUC y on b \(yOnB), on a \(yOnA); x on a \(xOnA), on b \(xOnB)")
    XCTAssertGreaterThan(yOnB, 0.97)
    XCTAssertGreaterThan(xOnA, 0.97)
    XCTAssertLessThan(yOnA, 0.75)
    XCTAssertLessThan(xOnB, 0.75)
  }

  func testTapSelectionGathersColumnRangesInTheOrderNamed() throws {
    let path = try writeTwoTapFile(in: folder, rows: 5)
    let file = try FeatureFile.read(path: path)
    let picked = try selectTaps(["b", "a"], of: file)
    XCTAssertEqual(picked.dimension, 7)
    XCTAssertEqual(picked.attributes.taps, ["b", "a"])
    XCTAssertEqual(picked.attributes.tapWidths, [3, 4])
    for row in 0..<5 {
      let original = Array(file.features[(row * 7)..<(row * 7 + 7)])
      XCTAssertEqual(Array(picked.features[(row * 7)..<(row * 7 + 7)]), Array(original[4...] + original[..<4]))
    }
    XCTAssertThrowsError(try selectTaps(["a", "a"], of: file))
  }
}

final class LabelsJoinTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("fit-heads-join-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  func testJoinAddsReplacesAndLeavesUnlistedRowsMissing() throws {
    let csv = folder.appendingPathComponent("l.csv")
    try "path,score,mood\n./b.jpg, 2.5 ,calm\na.jpg,,happy\nzzz.jpg,1,calm\n".write(
      to: csv, atomically: true, encoding: .utf8)
    let labels: [LabelColumn] = [
      .numeric(name: "score", values: [9, 9, 9]), .categorical(name: "split", classes: ["train"], indices: [0, 0, 0]),
    ]
    let (joined, summary) = try joinLabels(labels, paths: ["a.jpg", "b.jpg", "c.jpg"], csvPath: csv.path)
    XCTAssertEqual(joined.map(\.name), ["mood", "score", "split"])
    XCTAssertEqual(joined[0], .categorical(name: "mood", classes: ["calm", "happy"], indices: [1, 0, -1]))
    XCTAssertEqual(joined[1], .numeric(name: "score", values: [.nan, 2.5, .nan]))
    XCTAssertEqual(joined[2], labels[1])
    XCTAssertEqual(
      summary,
      LabelsJoinSummary(
        added: ["mood"], replaced: ["score"], rowsWithoutLabels: 1, unknownPaths: 1, firstUnknownPath: "zzz.jpg"))
  }

  func testToolJoinsLabelsAndReportsCounts() throws {
    let features = try writeTwoTapFile(in: folder, rows: 200)
    let file = try FeatureFile.read(path: features)
    // Fixed labels: `sign` flipped (so a head trained on the CSV learns the opposite), and a new
    // column `tags2`, written for every row but the last two; plus one path that is no row.
    guard case .categorical(_, let classes, let indices) = file.labels.first(where: { $0.name == "sign" })! else {
      return XCTFail("sign is categorical")
    }
    var text = "path,sign,tags2\n"
    for row in 0..<198 {
      let flipped = classes[Int(indices[row])] == "pos" ? "neg" : "pos"
      text += "\(file.paths[row]),\(flipped),\(flipped == "pos" ? "up" : "-")\n"
    }
    text += "elsewhere/img_0001.jpg,pos,up\n"
    let csv = folder.appendingPathComponent("fixed.csv")
    try text.write(to: csv, atomically: true, encoding: .utf8)
    let metrics = folder.appendingPathComponent("m.json").path
    let result = try runFitHeads([
      "--features", features, "--labels", csv.path, "--head", "sign=softmax:sign", "--head", "up=sigmoid:tags2",
      "--epochs", "60", "--patience", "60", "--metrics", metrics, "--quiet",
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(result.stderr.contains("1 path(s) are not rows"), result.stderr)
    XCTAssertTrue(result.stderr.contains("'elsewhere/img_0001.jpg'"), result.stderr)
    // --quiet keeps the warning but not the plain log lines; run again without it for those.
    XCTAssertFalse(result.stderr.contains("row(s) of the feature file"), result.stderr)
    let loud = try runFitHeads([
      "--features", features, "--labels", csv.path, "--head", "sign=softmax:sign", "--epochs", "1",
    ])
    XCTAssertTrue(loud.stderr.contains("added tags2; replaced sign"), loud.stderr)
    XCTAssertTrue(loud.stderr.contains("2 row(s) of the feature file are not in the CSV"), loud.stderr)
    // The CSV's labels were learnt: the confusion matrix is of the flipped classes, and the
    // accuracy on them is high (on the file's own labels it would be near 0).
    let sign = try headMetrics(metrics, head: "sign")
    let val = try XCTUnwrap(sign["val"] as? [String: Any])
    print("sign val accuracy on the CSV's labels", val["accuracy"] ?? "")
    XCTAssertGreaterThan(try XCTUnwrap(val["accuracy"] as? Double), 0.85)
    let up = try sigmoidLabels(try headMetrics(metrics, head: "up"), split: "val")
    XCTAssertEqual(Array(up.keys), ["up"])
  }
}

final class FitHeadsBadInputTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("fit-heads-bad-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  private func file(_ name: String, _ text: String) throws -> String {
    let url = folder.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }

  /// A copy of `path` with one root integer attribute changed through the HDF5 wrapper.
  private func copy(_ path: String, setting attribute: String, to value: Int) throws -> String {
    let changed = folder.appendingPathComponent("\(attribute)-\(value).h5").path
    try FileManager.default.copyItem(atPath: path, toPath: changed)
    try HDF5File.withFile(changed, mode: .readWrite) { try $0.setAttribute(attribute, int: value) }
    return changed
  }

  func testEachBadInputExitsTwoWithOneLine() throws {
    let features = try writeTwoTapFile(in: folder, rows: 100)
    // `lonely` has a class only in validation rows; `multi` a label only in validation rows.
    let split = try FeatureFile.read(path: features).labels.first { $0.name == "split" }!
    guard case .categorical(_, let splitClasses, let splitIndices) = split else { return XCTFail() }
    var lonely = "path,lonely,multi\n"
    for row in 0..<100 {
      let isVal = splitClasses[Int(splitIndices[row])] == "val"
      lonely += String(format: "img_%04d.jpg,", row) + (isVal && row % 2 == 0 ? "c" : (row % 2 == 0 ? "a" : "b"))
      lonely += isVal ? ",p;q\n" : ",p\n"
    }
    let lonelyCSV = try file("lonely.csv", lonely)
    let weighted = try file(
      "weighted.yaml", "heads:\n  - {name: t, kind: sigmoid, column: tags, class_weights: balanced}\n")
    let cases: [([String], String)] = [
      ([try copy(features, setting: "complete", to: 0)], "incomplete"),
      ([try copy(features, setting: "format_version", to: 99)], "format version 99"),
      (["--head", "s=softmax:nope"], "no label column 'nope'"),
      (["--taps", "c", "--head", "s=softmax:sign"], "no tap 'c' in the feature file (it has: a, b)"),
      (["--head", "s=tanh:sign"], "holds text classes"),
      (["--head", "s=softmax:sign", "--images", "/tmp"], "--images only gives the report its thumbnails"),
      (["--head", "s=softmax:score"], "holds numbers"),
      (["--head", "s=sigmoid:score"], "holds numbers"),
      (["--labels", lonelyCSV, "--head", "s=softmax:lonely"], "class 'c' of 'lonely' has no training rows"),
      (["--labels", lonelyCSV, "--head", "s=sigmoid:multi"], "label 'q' of 'multi' has no training rows"),
      (["--heads", weighted], "class_weights are not supported on a multi-label sigmoid head"),
      (
        ["--heads", try file("sep.yaml", "heads:\n  - {name: s, kind: softmax, column: fold, separator: \"_\"}\n")],
        "separator applies to sigmoid heads only"
      ),
      (
        ["--labels", try file("dup.csv", "path,x\nimg_0001.jpg,1\n./img_0001.jpg,2\n"), "--head", "s=tanh:x"],
        "path 'img_0001.jpg' is listed twice"
      ),
      (
        ["--labels", try file("quote.csv", "path,x\n\"img_0001.jpg,1\n"), "--head", "s=tanh:x"],
        "quoted field is never closed"
      ),
      (
        ["--labels", try file("ragged.csv", "path,x\nimg_0001.jpg\n"), "--head", "s=tanh:x"],
        "row 2 has 1 fields, the header has 2"
      ),
      (
        ["--labels", try file("header.csv", "path\nimg_0001.jpg\n"), "--head", "s=tanh:x"],
        "at least one label column"
      ),
      (
        ["--labels", folder.appendingPathComponent("absent.csv").path, "--head", "s=tanh:x"],
        "absent.csv: cannot read the file"
      ),
    ]
    for (arguments, mention) in cases {
      let full =
        arguments.first!.hasSuffix(".h5")
        ? ["--features", arguments[0], "--head", "s=softmax:sign"] : ["--features", features] + arguments
      let result = try runFitHeads(full + ["--quiet"])
      XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
      XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): \(result.stderr)")
      XCTAssertTrue(result.stderr.hasPrefix("headstart fit-heads: "), result.stderr)
      XCTAssertTrue(result.stderr.contains(mention), "\(arguments): \(result.stderr)")
    }
  }

  func testHelpExitsZeroAndUnknownOptionExitsTwo() throws {
    let help = try runFitHeads(["--help"])
    XCTAssertEqual(help.status, 0)
    XCTAssertTrue(help.stdout.contains("--taps"), help.stdout)
    let unknown = try runFitHeads(["--features", "x.h5", "--no-such-option"])
    XCTAssertEqual(unknown.status, 2, unknown.stderr)
    XCTAssertTrue(unknown.stderr.hasPrefix("headstart fit-heads: "), unknown.stderr)
  }
}
