// The heads file: round trips (every field, bit-exact parameters), deterministic bytes, and
// the reader's errors for files that are not, or no longer, heads files.

import FeatureStore
import Foundation
import HDF5
import Heads
import XCTest

final class HeadsFileTests: XCTestCase {
  private var directory = ""

  override func setUpWithError() throws {
    directory = NSTemporaryDirectory() + "headsfile-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// Three heads on features of width 6 (two taps, 4 + 2): tanh, softmax with a hidden layer of
  /// 5, sigmoid with two hidden layers; parameters all distinct, so a misplaced one shows.
  static func sample() -> HeadsFile {
    let specs = [
      HeadSpec(name: "score", kind: .tanh, outputs: 1, lossWeight: 0.5),
      HeadSpec(name: "style", kind: .softmax, outputs: 3, hidden: [5]),
      HeadSpec(name: "tags", kind: .sigmoid, outputs: 2, hidden: [4, 3], lossWeight: 2),
    ]
    let count = MultiHeadModel.parameterCount(specs: specs, inputWidth: 6)
    let provenance = FeatureFileAttributes(
      backbone: "resnet50", weightsFile: "resnet50_weights.h5",
      weightsSHA256: String(repeating: "ab", count: 32),
      height: 224, width: 224, interpolation: "nearest", exif: "ignored",
      taps: ["conv4_block6_out", "conv5_block3_out"], tapWidths: [4, 2], toolVersion: "0.1.0-features")
    let training = TrainingRecord(
      optimizer: "adam", optimizerSettings: ["learning_rate": 0.01, "beta_1": 0.9, "epsilon": 1e-7],
      epochsRun: 3, bestEpoch: 2, batchSize: 32, seed: 0xDEAD_BEEF_0000_0001,
      history: [
        "loss": [1.5, 1.25, 1.125], "val_loss": [1.6, 1.3, 1.4], "score_loss": [0.3, 0.2, 0.1],
        "style_loss": [1, 0.9, 0.8], "tags_loss": [0.7, 0.6, 0.5],
      ])
    return HeadsFile(
      specs: specs, columns: ["score": "rating", "style": "style", "tags": "tags"],
      classNames: ["style": ["baroque", "cubist", "modern"], "tags": ["cat", "dog"]],
      labelRanges: ["score": 1...10], thresholds: ["tags": [0.5, 0.25]],
      parameters: (0..<count).map { Float($0) * 0.001 - 0.25 }, inputWidth: 6, provenance: provenance,
      training: training, toolVersion: "0.2.0")
  }

  func testRoundTripKeepsEveryField() throws {
    let original = Self.sample()
    let path = directory + "/heads.h5"
    try original.write(to: path)
    let read = try HeadsFile.read(path: path)
    XCTAssertEqual(read.specs, original.specs)
    XCTAssertEqual(read.columns, original.columns)
    XCTAssertEqual(read.classNames, original.classNames)
    XCTAssertEqual(read.labelRanges, original.labelRanges)
    XCTAssertEqual(read.thresholds, original.thresholds)
    XCTAssertEqual(read.provenance, original.provenance)
    XCTAssertEqual(read.training, original.training)
    XCTAssertEqual(read.toolVersion, "0.2.0")
    XCTAssertEqual(read.parameters.map(\.bitPattern), original.parameters.map(\.bitPattern))
    XCTAssertEqual(read, original)
    XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".writing"))
    // A copy for Tests/Fixtures/heads/check_heads_file.py (run by hand, not by `swift test`).
    try? FileManager.default.removeItem(atPath: "/tmp/headstart-heads-check.h5")
    try? FileManager.default.copyItem(atPath: path, toPath: "/tmp/headstart-heads-check.h5")
  }

  func testLayersAreStoredByKerasNameInKerasLayout() throws {
    let original = Self.sample()
    let path = directory + "/heads.h5"
    try original.write(to: path)
    try HDF5File.withFile(path) { file in
      XCTAssertEqual(try file.stringAttribute("kind"), "headstart-heads")
      XCTAssertEqual(try file.intAttribute("input_width"), 6)
      XCTAssertEqual(try file.stringAttribute("tool_version"), "0.2.0")
      XCTAssertEqual(try file.stringAttribute("features_tool_version"), "0.1.0-features")
      let style = try file.openGroup("heads").openGroup("style")
      XCTAssertEqual(try style.intsAttribute("hidden"), [5])
      XCTAssertEqual(try style.memberNames().sorted(), ["style", "style_hidden"])
      let hidden = try style.openGroup("style_hidden").openDataset("kernel")
      XCTAssertEqual(try hidden.shape(), [6, 5])
      // style_hidden's kernel starts after score's kernel (6 x 1) and bias (1).
      XCTAssertEqual(try hidden.readFloats(), Array(original.parameters[7..<37]))
      let tags = try file.openGroup("heads").openGroup("tags")
      XCTAssertEqual(try tags.memberNames().sorted(), ["tags", "tags_hidden", "tags_hidden_2", "thresholds"])
      XCTAssertEqual(try tags.openGroup("tags_hidden_2").openDataset("bias").shape(), [3])
      XCTAssertEqual(
        try file.openGroup("training").stringAttribute("optimizer"),
        #"{"name": "adam", "beta_1": 0.9, "epsilon": 1e-07, "learning_rate": 0.01}"#)
    }
  }

  func testRewriteGivesIdenticalBytes() throws {
    let first = directory + "/a.h5"
    let second = directory + "/b.h5"
    try Self.sample().write(to: first)
    try HeadsFile.read(path: first).write(to: second)
    let a = try Data(contentsOf: URL(fileURLWithPath: first))
    let b = try Data(contentsOf: URL(fileURLWithPath: second))
    XCTAssertEqual(a, b, "\(a.count) vs \(b.count) bytes")
    // Overwriting an existing file goes through the temporary name too.
    try Self.sample().write(to: second)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: second)), a)
  }

  func testWriteRefusesInconsistentHeads() throws {
    var file = Self.sample()
    file.parameters.removeLast()
    XCTAssertThrowsError(try file.write(to: directory + "/x.h5")) { error in
      XCTAssertTrue("\(error)".contains("parameters"), "\(error)")
    }
    file = Self.sample()
    file.classNames["style"] = ["only one"]
    XCTAssertThrowsError(try file.write(to: directory + "/x.h5")) { error in
      XCTAssertTrue("\(error)".contains("head \"style\" has 3 outputs but 1 class names"), "\(error)")
    }
    file = Self.sample()
    file.inputWidth = 7
    XCTAssertThrowsError(try file.write(to: directory + "/x.h5"))
    file = Self.sample()
    file.specs[0].name = "thresholds"
    file.columns["thresholds"] = "rating"
    file.labelRanges["thresholds"] = 1...10
    XCTAssertThrowsError(try file.write(to: directory + "/x.h5")) { error in
      XCTAssertTrue("\(error)".contains("reserved"), "\(error)")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/x.h5"))
  }

  /// Writes the sample, changes it with `edit`, and returns the reader's error message.
  private func readError(_ edit: (HDF5File) throws -> Void) throws -> String {
    let path = directory + "/edited.h5"
    try Self.sample().write(to: path)
    try HDF5File.withFile(path, mode: .readWrite, edit)
    do {
      _ = try HeadsFile.read(path: path)
    } catch {
      XCTAssertTrue("\(error)".contains(path), "the error names the file: \(error)")
      return "\(error)"
    }
    XCTFail("reading the edited file succeeded")
    return ""
  }

  func testReadErrorsSayWhatIsWrong() throws {
    let kind = try readError { try $0.setAttribute("kind", string: "headstart-features") }
    XCTAssertTrue(kind.contains("is not a heads file"), kind)
    let version = try readError { try $0.setAttribute("format_version", int: 2) }
    XCTAssertTrue(version.contains("format version 2; this tool reads version 1"), version)
    // A hidden layer the file does not hold.
    let missing = try readError {
      try $0.openGroup("heads").openGroup("score").setAttribute("hidden", ints: [8])
    }
    XCTAssertTrue(missing.contains("misses layer /heads/score/score_hidden"), missing)
    // The kernel no longer fits the head's declared outputs.
    let shape = try readError {
      try $0.openGroup("heads").openGroup("style").setAttribute("outputs", int: 4)
    }
    XCTAssertTrue(shape.contains("/heads/style/style/kernel of shape [5, 3]; the head needs [5, 4]"), shape)
    let listed = try readError { try $0.setAttribute("heads", strings: ["score", "colour"]) }
    XCTAssertTrue(listed.contains("no /heads/colour"), listed)
  }

  func testAFeatureFileIsNotAHeadsFile() throws {
    let path = directory + "/features.h5"
    try HDF5File.withNewFile(path) { try $0.setAttribute("format_version", int: 1) }
    XCTAssertThrowsError(try HeadsFile.read(path: path)) { error in
      XCTAssertEqual(
        "\(error)",
        "heads file \(path): is not a heads file (its root attribute kind is not \"headstart-heads\")")
    }
  }
}
