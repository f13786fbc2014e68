// finetune with a head on a tap before the trained block (issue 13), through the built tools:
// features of an early tap and the block's output, one head on each; finetune says which head's
// input stays fixed, trains both, exports heads that `predict` feeds their own taps (its outputs
// are the trainer's), resumes bit for bit after an interruption and after SIGKILL, with and
// without augmentation, and refuses a head on a tap inside the trained block or heads of which
// none reads the block's output.

import Backbones
import Foundation
import Heads
import ToolTesting
import XCTest

final class EarlyTapToolTests: XCTestCase {
  static let early = "conv3_block4_out"
  static let inside = "conv5_block1_out"
  static let output = "conv5_block3_out"

  /// Features of three taps of the workspace's images (made once), and heads `early` on
  /// conv3_block4_out and `late` on conv5_block3_out fitted on them.
  private func earlyTapHeads(_ workspace: Workspace, heads: [String] = []) throws -> String {
    let features = workspace.root.appendingPathComponent("early-tap-features.h5").path
    if !FileManager.default.fileExists(atPath: features) {
      let extract = try runTool(
        "extract",
        [
          "--images", workspace.images, "--output", features, "--weights", "random", "--size", "64x64",
          "--taps", "\(Self.early),\(Self.inside),\(Self.output)", "--quiet",
        ])
      XCTAssertEqual(extract.status, 0, extract.stderr)
    }
    let path = try workspace.folder("early-tap-heads").appendingPathComponent("heads.h5").path
    let specs = heads.isEmpty ? ["early=softmax:class@\(Self.early)", "late=softmax:class@\(Self.output)"] : heads
    let fit = try runTool(
      "fit-heads",
      ["--features", features, "--epochs", "3", "--val-split", "0", "--output", path, "--quiet"]
        + specs.flatMap { ["--head", $0] })
    XCTAssertEqual(fit.status, 0, fit.stderr)
    return path
  }

  /// Full-batch SGD as FinetuneToolTests runs it.
  private func arguments(_ workspace: Workspace, heads: String, output: String) -> [String] {
    [
      "--images", workspace.images, "--heads", heads, "--weights", "random", "--output", output, "--epochs", "2",
      "--batch-size", "8", "--val-split", "0", "--optimizer", "sgd", "--learning-rate", "1e-2",
    ]
  }

  private func differingArrays(_ a: String, _ b: String) throws -> Int {
    let (x, y) = (try readKerasWeightFile(path: a).weights, try readKerasWeightFile(path: b).weights)
    return x.layers.reduce(0) { count, entry in
      count + entry.value.filter { y.layers[entry.key]?[$0.key] != $0.value }.count
    }
  }

  func testEarlyTapHeadTrainsOnFixedInputExportsPredictsAndResumes() throws {
    let workspace = try Workspace.get()
    let heads = try earlyTapHeads(workspace)
    let fitted = try HeadsFile.read(path: heads)
    XCTAssertEqual(fitted.provenance.taps, [Self.early, Self.output])
    let folder = try workspace.folder("early-tap-run")
    let model = folder.appendingPathComponent("model.h5").path
    let trainerCSV = folder.appendingPathComponent("trainer.csv").path
    let run = try runTool(
      "finetune", arguments(workspace, heads: heads, output: model) + ["--trainer-predictions", trainerCSV])
    XCTAssertEqual(run.status, 0, run.stderr)
    let said = run.stderr.split(separator: "\n").filter { $0.hasPrefix("fixed input:") }
    XCTAssertEqual(said.count, 1, run.stderr)
    XCTAssertTrue(said.first?.contains("head 'early' on \(Self.early)") ?? false, run.stderr)
    XCTAssertFalse(said.first?.contains("'late'") ?? true, run.stderr)

    // The export records each head's taps as fit-heads wrote them; both heads trained.
    let headsPath = folder.appendingPathComponent("model.heads.h5").path
    let tuned = try HeadsFile.read(path: headsPath)
    XCTAssertEqual(tuned.headTaps, fitted.headTaps)
    XCTAssertEqual(tuned.provenance.taps, fitted.provenance.taps)
    XCTAssertEqual(tuned.specs.map(\.inputColumns), fitted.specs.map(\.inputColumns))
    let early = 0..<(fitted.inputWidth * 2)  // the first head's kernel (D, 2 classes)
    XCTAssertNotEqual(Array(tuned.parameters[early]), Array(fitted.parameters[early]), "the early head trains")

    // predict feeds each head its own taps from the exported backbone: the trainer's outputs.
    let predictions = folder.appendingPathComponent("predictions.csv").path
    let predict = try runTool(
      "predict",
      ["--heads", headsPath, "--weights", model, "--images", workspace.images, "--output", predictions, "--quiet"])
    XCTAssertEqual(predict.status, 0, predict.stderr)
    let trainerRows = Dictionary(uniqueKeysWithValues: try csvRows(trainerCSV).map { ($0["path"]!, $0) })
    var maxDiff: Float = 0
    let predictRows = try csvRows(predictions)
    XCTAssertEqual(predictRows.count, 8)
    for row in predictRows {
      let mine = try XCTUnwrap(trainerRows[row["path"]!])
      for head in ["early", "late"] {
        for (i, name) in try XCTUnwrap(tuned.classNames[head]).enumerated() {
          maxDiff = max(maxDiff, abs(try XCTUnwrap(Float(row["\(head):\(name)"]!)) - Float(mine["\(head):\(i)"]!)!))
        }
      }
    }
    print("predict vs trainer outputs, both heads: max |diff| = \(maxDiff)")
    XCTAssertLessThan(maxDiff, 1e-4)

    // Interrupted after epoch 1, then continued: the same bits.
    let resumed = try workspace.folder("early-tap-resume").appendingPathComponent("model.h5").path
    let stopped = try runTool(
      "finetune", arguments(workspace, heads: heads, output: resumed) + ["--stop-after-epochs", "1", "--quiet"])
    XCTAssertEqual(stopped.status, 0, stopped.stderr)
    XCTAssertTrue(FileManager.default.fileExists(atPath: resumed + ".partial"))
    let continued = try runTool("finetune", arguments(workspace, heads: heads, output: resumed) + ["--quiet"])
    XCTAssertEqual(continued.status, 0, continued.stderr)
    XCTAssertEqual(try differingArrays(model, resumed), 0, "arrays differing after the resumed run")
    let resumedHeads = try HeadsFile.read(path: String(resumed.dropLast(3)) + ".heads.h5")
    XCTAssertEqual(resumedHeads.parameters, tuned.parameters)

    // Killed (SIGKILL once epoch 1's checkpoint exists), then rerun: the same bits again.
    let killed = try workspace.folder("early-tap-killed").appendingPathComponent("model.h5").path
    let process = Process()
    process.executableURL = headstartExecutable
    process.arguments = ["finetune"] + arguments(workspace, heads: heads, output: killed) + ["--quiet"]
    process.standardError = FileHandle.nullDevice
    try process.run()
    while process.isRunning, !FileManager.default.fileExists(atPath: killed + ".partial") { usleep(2_000) }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationReason, .uncaughtSignal, "killed before it finished")
    XCTAssertTrue(FileManager.default.fileExists(atPath: killed + ".partial"))
    let rerun = try runTool("finetune", arguments(workspace, heads: heads, output: killed) + ["--quiet"])
    XCTAssertEqual(rerun.status, 0, rerun.stderr)
    XCTAssertEqual(try differingArrays(model, killed), 0, "arrays differing after the killed-and-rerun run")
    let killedHeads = try HeadsFile.read(path: String(killed.dropLast(3)) + ".heads.h5")
    XCTAssertEqual(killedHeads.parameters, tuned.parameters)
  }

  /// With augmentation the early tap is pooled from each augmented batch's prefix pass: an
  /// interrupted run continues to the uninterrupted run's bits.
  func testAugmentedEarlyTapRunResumesBitForBit() throws {
    let workspace = try Workspace.get()
    let heads = try earlyTapHeads(workspace)
    let augmentation = ["--horizontal-flip", "--rotation-range", "15", "--augment-seed", "5", "--quiet"]
    let whole = try workspace.folder("early-tap-augmented").appendingPathComponent("model.h5").path
    let run = try runTool("finetune", arguments(workspace, heads: heads, output: whole) + augmentation)
    XCTAssertEqual(run.status, 0, run.stderr)
    let resumed = try workspace.folder("early-tap-augmented-resume").appendingPathComponent("model.h5").path
    let stopped = try runTool(
      "finetune", arguments(workspace, heads: heads, output: resumed) + augmentation + ["--stop-after-epochs", "1"])
    XCTAssertEqual(stopped.status, 0, stopped.stderr)
    let continued = try runTool("finetune", arguments(workspace, heads: heads, output: resumed) + augmentation)
    XCTAssertEqual(continued.status, 0, continued.stderr)
    XCTAssertEqual(try differingArrays(whole, resumed), 0, "arrays differing after the resumed augmented run")
    let a = try HeadsFile.read(path: String(whole.dropLast(3)) + ".heads.h5")
    let b = try HeadsFile.read(path: String(resumed.dropLast(3)) + ".heads.h5")
    XCTAssertEqual(a.parameters, b.parameters)
    let fitted = try HeadsFile.read(path: heads)
    let early = 0..<(fitted.inputWidth * 2)  // the first head's kernel (D, 2 classes)
    XCTAssertNotEqual(Array(a.parameters[early]), Array(fitted.parameters[early]), "the early head trains")
  }

  /// A head on a tap inside the trained block (neither the frozen prefix nor its output), and
  /// heads of which none reads the block's output, are refused with one line, exit 2, nothing
  /// written.
  func testHeadOnATapInsideTheBlockOrNoneOnItsOutputIsRefused() throws {
    let workspace = try Workspace.get()
    let cases = [
      (["mid=softmax:class@\(Self.inside)", "late=softmax:class@\(Self.output)"], "inside"),
      (["early=softmax:class@\(Self.early)"], "none of them \(Self.output)"),
    ]
    for (specs, expected) in cases {
      let heads = try earlyTapHeads(workspace, heads: specs)
      let output = try workspace.folder("early-tap-refused").appendingPathComponent("model.h5").path
      let run = try runTool("finetune", arguments(workspace, heads: heads, output: output) + ["--quiet"])
      print("refused: \(run.stderr)", terminator: "")
      XCTAssertEqual(run.status, 2, run.stderr)
      XCTAssertTrue(run.stderr.contains(expected), run.stderr)
      XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
      XCTAssertFalse(FileManager.default.fileExists(atPath: output))
      XCTAssertFalse(FileManager.default.fileExists(atPath: output + ".partial"))
    }
  }
}
