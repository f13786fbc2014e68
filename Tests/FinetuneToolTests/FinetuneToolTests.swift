// finetune end to end through the built tools: the loss goes down, the exported backbone plus
// heads give `predict` the trainer's own outputs, an interrupted run resumes bit for bit, and
// bad input is refused with exit code 2 and nothing written.

import Backbones
import Foundation
import Heads
import ToolTesting
import XCTest

final class FinetuneToolTests: XCTestCase {
  /// Full-batch SGD (8 images, batch 8): each epoch one small gradient step, so the training
  /// loss must go down.
  private func arguments(_ workspace: Workspace, output: String) -> [String] {
    [
      "--images", workspace.images, "--heads", workspace.heads, "--weights", "random", "--output", output,
      "--epochs", "2", "--batch-size", "8", "--val-split", "0", "--optimizer", "sgd", "--learning-rate", "1e-2",
      "--quiet",
    ]
  }

  /// fit-heads and finetune share one split rule: with the same seed (finetune's default: the one
  /// the heads file records) and --val-split, finetune validates on the rows fit-heads validated
  /// on; with another seed it refuses (exit 2, nothing written).
  func testValidatesOnTheRowsFitHeadsValidatedOn() throws {
    let workspace = try Workspace.get()
    let folder = try workspace.folder("split")
    let heads = folder.appendingPathComponent("heads.h5").path
    let fit = try runTool(
      "fit-heads",
      [
        "--features", workspace.features, "--head", "kind=softmax:class", "--epochs", "2", "--val-split", "0.5",
        "--seed", "3", "--output", heads, "--quiet",
      ])
    XCTAssertEqual(fit.status, 0, fit.stderr)
    let recorded = try HeadsFile.read(path: heads).training.validationRows
    XCTAssertTrue(recorded.hasPrefix("4 rows, sha256 "), recorded)  // stratified: 2 of each class

    var args = arguments(workspace, output: folder.appendingPathComponent("model.h5").path)
    args[args.firstIndex(of: "--heads")! + 1] = heads
    args[args.firstIndex(of: "--val-split")! + 1] = "0.5"
    args[args.firstIndex(of: "--epochs")! + 1] = "1"
    let run = try runTool("finetune", args)
    XCTAssertEqual(run.status, 0, run.stderr)
    let tuned = try HeadsFile.read(path: folder.appendingPathComponent("model.heads.h5").path).training
    XCTAssertEqual(tuned.validationRows, recorded)
    XCTAssertEqual(tuned.seed, 3)

    let other = folder.appendingPathComponent("other.h5").path
    args[args.firstIndex(of: "--output")! + 1] = other
    let refused = try runTool("finetune", args + ["--shuffle-seed", "11"])
    XCTAssertEqual(refused.status, 2, refused.stderr)
    XCTAssertTrue(refused.stderr.contains("validated on other rows"), refused.stderr)
    XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: other))
    XCTAssertFalse(FileManager.default.fileExists(atPath: other + ".partial"))
  }

  func testTrainsExportsPredictsAndResumesBitForBit() throws {
    let workspace = try Workspace.get()
    let folder = try workspace.folder("run")
    let model = folder.appendingPathComponent("model.h5").path
    let trainerCSV = folder.appendingPathComponent("trainer.csv").path
    let run = try runTool("finetune", arguments(workspace, output: model) + ["--trainer-predictions", trainerCSV])
    XCTAssertEqual(run.status, 0, run.stderr)

    // The loss went down, and the heads file records the model it belongs to.
    let headsPath = folder.appendingPathComponent("model.heads.h5").path
    let heads = try HeadsFile.read(path: headsPath)
    let loss = try XCTUnwrap(heads.training.history["loss"])
    print("finetune loss per epoch: \(loss)")
    XCTAssertEqual(loss.count, 2)
    XCTAssertLessThan(loss[1], loss[0])
    XCTAssertEqual(heads.provenance.weightsFile, model)
    XCTAssertEqual(heads.training.bestEpoch, 2)
    XCTAssertFalse(FileManager.default.fileExists(atPath: model + ".partial"))

    // The whole backbone, every Keras layer, in the legacy layout.
    let contents = try readKerasWeightFile(path: model)
    XCTAssertNoThrow(try BackboneKind.resnet50.validateWeights(contents.weights))
    let start = try readKerasWeightFile(path: model).weights  // reread: the file is the reference
    XCTAssertEqual(start.layers.count, contents.weights.layers.count)

    // predict on the exported pair gives the trainer's outputs (its own forward pass vs the
    // backbone's folded, Winograd one).
    let predictions = folder.appendingPathComponent("predictions.csv").path
    let predict = try runTool(
      "predict",
      [
        "--heads", headsPath, "--weights", model, "--images", workspace.images, "--output", predictions,
        "--quiet",
      ])
    XCTAssertEqual(predict.status, 0, predict.stderr)
    let trainerRows = Dictionary(uniqueKeysWithValues: try csvRows(trainerCSV).map { ($0["path"]!, $0) })
    let predictRows = try csvRows(predictions)
    XCTAssertEqual(predictRows.count, 8)
    let classes = try XCTUnwrap(heads.classNames["kind"])
    var maxDiff: Float = 0
    for row in predictRows {
      let mine = try XCTUnwrap(trainerRows[row["path"]!])
      for (i, name) in classes.enumerated() {
        let a = try XCTUnwrap(Float(row["kind:\(name)"]!))
        let b = try XCTUnwrap(Float(mine["kind:\(i)"]!))
        maxDiff = max(maxDiff, abs(a - b))
      }
    }
    print("predict vs trainer outputs, max |diff| = \(maxDiff)")
    XCTAssertLessThan(maxDiff, 1e-4)

    // Interrupted after epoch 1 (as a kill between epochs leaves it), then rerun.
    let second = try workspace.folder("resume")
    let resumed = second.appendingPathComponent("model.h5").path
    let stopped = try runTool("finetune", arguments(workspace, output: resumed) + ["--stop-after-epochs", "1"])
    XCTAssertEqual(stopped.status, 0, stopped.stderr)
    XCTAssertTrue(FileManager.default.fileExists(atPath: resumed + ".partial"))
    XCTAssertFalse(FileManager.default.fileExists(atPath: resumed))
    // Other arguments cannot continue this checkpoint.
    var other = arguments(workspace, output: resumed)
    other[other.firstIndex(of: "--batch-size")! + 1] = "4"
    let refused = try runTool("finetune", other)
    XCTAssertEqual(refused.status, 2)
    XCTAssertTrue(refused.stderr.contains("batch-size"), refused.stderr)
    XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
    // The continuation keeps its block inputs on disk (--max-memory 1K): the HDF5 cache must
    // give the same bits as memory.
    let cache = try workspace.folder("cache")
    let continued = try runTool(
      "finetune", arguments(workspace, output: resumed) + ["--max-memory", "1K", "--cache-dir", cache.path])
    XCTAssertEqual(continued.status, 0, continued.stderr)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.path), [], "the cache is removed")
    let a = try readKerasWeightFile(path: model).weights
    let b = try readKerasWeightFile(path: resumed).weights
    var differing = 0
    for (layer, arrays) in a.layers {
      for (kind, array) in arrays where b.layers[layer]?[kind] != array { differing += 1 }
    }
    XCTAssertEqual(differing, 0, "arrays differing between the uninterrupted and the resumed run")

    // Killed for real (SIGKILL as soon as epoch 1's checkpoint exists, so during epoch 2), then
    // rerun: the same bits again.
    let third = try workspace.folder("killed")
    let killed = third.appendingPathComponent("model.h5").path
    let process = Process()
    process.executableURL = headstartExecutable
    process.arguments = ["finetune"] + arguments(workspace, output: killed)
    process.standardError = FileHandle.nullDevice
    try process.run()
    while process.isRunning, !FileManager.default.fileExists(atPath: killed + ".partial") { usleep(2_000) }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationReason, .uncaughtSignal, "killed before it finished")
    XCTAssertFalse(FileManager.default.fileExists(atPath: killed), "no model from a killed run")
    XCTAssertTrue(
      FileManager.default.fileExists(atPath: killed + ".partial"), "the rerun continues epoch 1's checkpoint")
    let rerun = try runTool("finetune", arguments(workspace, output: killed))
    XCTAssertEqual(rerun.status, 0, rerun.stderr)
    let c = try readKerasWeightFile(path: killed).weights
    XCTAssertEqual(
      a.layers.filter { layer, arrays in arrays.contains { c.layers[layer]?[$0.key] != $0.value } }.count, 0,
      "layers differing between the uninterrupted and the killed-and-rerun run")
    let resumedHeads = try HeadsFile.read(path: second.appendingPathComponent("model.heads.h5").path)
    XCTAssertEqual(resumedHeads.parameters, heads.parameters)
    XCTAssertEqual(resumedHeads.training.history, heads.training.history)
  }

  /// --unfreeze with one layer: only that layer's arrays leave the starting weights.
  func testUnfreezeOneLayerExportsTheOthersUnchanged() throws {
    let workspace = try Workspace.get()
    let model = try workspace.folder("unfreeze").appendingPathComponent("model.h5").path
    var args = arguments(workspace, output: model) + ["--unfreeze", "conv5_block3_3_conv"]
    args[args.firstIndex(of: "--epochs")! + 1] = "1"
    let run = try runTool("finetune", args)
    XCTAssertEqual(run.status, 0, run.stderr)
    let start = SyntheticWeights.make(.resnet50, seed: 0)
    let exported = try readKerasWeightFile(path: model).weights
    var changed: [String] = []
    for (layer, arrays) in start.layers {
      for (kind, array) in arrays where exported.layers[layer]?[kind] != array { changed.append("\(layer)/\(kind)") }
    }
    XCTAssertEqual(changed.sorted(), ["conv5_block3_3_conv/bias", "conv5_block3_3_conv/kernel"])
  }

  /// Sigmoid heads (multi-label `tags` split on ';', binary `sign` on the folder class): with one
  /// full batch, epoch 1's loss is computed before any update, so it must equal the binary
  /// cross-entropy of the starting heads' probabilities (from predict) against the label cells.
  func testSigmoidHeadsTrainOnTheirLabelCells() throws {
    let workspace = try Workspace.get()
    let folder = try workspace.folder("sigmoid")
    let tags = [
      "a/astronaut_baseline_q90_256x256.jpg": "x;y", "a/chelsea_progressive_300x200.jpg": "x",
      "a/coffee_cmyk_240x160.jpg": "-", "a/flower_rgb_240x160.png": "y", "b/camera_gray_180x180.jpg": "y; x",
      "b/coins_gray_192x152.png": "", "b/hubble_rgba_200x174.png": "x", "b/china_wide_320x100.jpg": "y",
    ]
    let csv = folder.appendingPathComponent("labels.csv").path
    try ("path,class,tags\n" + tags.keys.sorted().map { "\($0),\($0.prefix(1)),\(tags[$0]!)" }.joined(separator: "\n"))
      .write(toFile: csv, atomically: true, encoding: .utf8)
    let heads = folder.appendingPathComponent("heads.h5").path
    let fit = try runTool(
      "fit-heads",
      [
        "--features", workspace.features, "--labels", csv, "--head", "tags=sigmoid:tags", "--head",
        "sign=sigmoid:class", "--epochs", "3", "--val-split", "0", "--output", heads, "--quiet",
      ])
    XCTAssertEqual(fit.status, 0, fit.stderr)
    let start = folder.appendingPathComponent("start.csv").path
    let predict = try runTool(
      "predict",
      ["--heads", heads, "--weights", "random", "--images", workspace.images, "--output", start, "--quiet"])
    XCTAssertEqual(predict.status, 0, predict.stderr)
    let model = folder.appendingPathComponent("model.h5").path
    var args = arguments(workspace, output: model) + ["--labels", csv]
    args[args.firstIndex(of: "--heads")! + 1] = heads
    args[args.firstIndex(of: "--epochs")! + 1] = "1"
    let run = try runTool("finetune", args)
    XCTAssertEqual(run.status, 0, run.stderr)
    let history = try HeadsFile.read(path: folder.appendingPathComponent("model.heads.h5").path).training.history

    // Keras' binary cross-entropy: mean over labels, then over all 8 rows (a missing row counts
    // in the denominator with weight 0), probabilities clipped to [1e-7, 1 - 1e-7].
    func crossEntropy(_ p: Double, _ y: Double) -> Double {
      let q = min(max(p, 1e-7), 1 - 1e-7)
      return -(y * log(q) + (1 - y) * log(1 - q))
    }
    var expectedTags = 0.0
    var expectedSign = 0.0
    let rows = try csvRows(start)
    XCTAssertEqual(rows.count, 8)
    for row in rows {
      let path = try XCTUnwrap(tags.keys.first { row["path"]!.hasSuffix($0) })
      let cell = tags[path]!
      if !cell.isEmpty {
        let set = Set(cell.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) })
        for label in ["x", "y"] {
          expectedTags += crossEntropy(Double(row["tags:\(label)"]!)!, set.contains(label) ? 1 : 0) / 2
        }
      }
      expectedSign += crossEntropy(Double(row["sign:b"]!)!, path.hasPrefix("b/") ? 1 : 0)
    }
    let tagsLoss = try XCTUnwrap(history["tags_loss"]?.first)
    let signLoss = try XCTUnwrap(history["sign_loss"]?.first)
    print("epoch-1 sigmoid losses: tags \(tagsLoss) vs \(expectedTags / 8), sign \(signLoss) vs \(expectedSign / 8)")
    XCTAssertEqual(Double(tagsLoss), expectedTags / 8, accuracy: 1e-4)
    XCTAssertEqual(Double(signLoss), expectedSign / 8, accuracy: 1e-4)
  }

  func testBadInputIsRefusedWithOneLineAndNothingWritten() throws {
    let workspace = try Workspace.get()
    let folder = try workspace.folder("bad")
    let model = folder.appendingPathComponent("model.h5").path
    func refused(_ arguments: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
      let result = try runTool("finetune", arguments)
      XCTAssertEqual(result.status, 2, result.stderr, file: file, line: line)
      XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr, file: file, line: line)
      XCTAssertTrue(result.stderr.contains(expected), result.stderr, file: file, line: line)
      let written = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      XCTAssertEqual(written, [], "written: \(written)", file: file, line: line)
    }
    let base = arguments(workspace, output: model)
    try refused(base + ["--unfreeze", "conv6"], "names no layer or block of resnet50")
    try refused(base + ["--unfreeze", "conv5_block3,conv4_block6"], "comes before resnet50's last block")
    try refused(base + ["--unfreeze", "conv5_block1_out"], "no weights")
    try refused(base + ["--unfreeze", ""], "names no layer")
    try refused(base + ["--unfreeze", "conv5_block3", "--bn", "train"], "--bn train with --unfreeze")

    // Labels without the heads' column.
    let csv = folder.deletingLastPathComponent().appendingPathComponent("other-labels.csv").path
    try "path,colour\na/flower_rgb_240x160.png,red\nb/coins_gray_192x152.png,grey\n".write(
      toFile: csv, atomically: true, encoding: .utf8)
    try refused(base + ["--labels", csv], "do not cover head 'kind'")
    // Classes the head does not know.
    let unknown = folder.deletingLastPathComponent().appendingPathComponent("unknown-labels.csv").path
    try "path,class\na/flower_rgb_240x160.png,a\nb/coins_gray_192x152.png,zebra\n".write(
      toFile: unknown, atomically: true, encoding: .utf8)
    try refused(base + ["--labels", unknown], "class 'zebra'")

    // Heads from another backbone, and heads on another tap.
    var heads = try HeadsFile.read(path: workspace.heads)
    heads.provenance.backbone = "vgg16"
    let vgg = folder.deletingLastPathComponent().appendingPathComponent("vgg-heads.h5").path
    try heads.write(to: vgg)
    var swapped = base
    swapped[swapped.firstIndex(of: "--heads")! + 1] = vgg
    try refused(swapped, "vgg16 has no layer named 'conv5_block3_out'")
    // Weights other than the heads' features were made with.
    try refused(base + ["--seed", "5"], "seed 5")
  }
}
