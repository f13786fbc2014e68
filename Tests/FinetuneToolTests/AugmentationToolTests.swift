// finetune with augmentation through the built tool: the same seed gives the same bits, another
// seed other weights, an interrupted run continues bit for bit, and bad flags are refused with
// one line and nothing written. The runs stop through the hidden --stop-after-epochs flag and
// compare checkpoints (every trained array, the optimiser state and the history), which spares
// the export a debug build takes long over (the files themselves are not compared byte for byte:
// the history's JSON key order varies between processes).

import Foundation
import ToolTesting
import XCTest

@testable import FinetuneJob

final class AugmentationToolTests: XCTestCase {
  /// Six of the eight images (four train, two validation), one SGD step per epoch.
  private func arguments(_ workspace: Workspace, labels: String, output: String) -> [String] {
    [
      "--images", workspace.images, "--labels", labels, "--heads", heads ?? workspace.heads, "--weights", "random",
      "--output", output, "--epochs", "3", "--batch-size", "4", "--optimizer", "sgd", "--learning-rate", "1e-2",
    ] + augmentation
  }

  private let augmentation = [
    "--horizontal-flip", "--rotation-range", "15", "--zoom-range", "0.9,1.2", "--width-shift-range", "0.1",
    "--fill-mode", "reflect",
  ]

  /// Heads fitted on the same labels (their split column), so finetune validates on the rows
  /// they were validated on; set by `labels(_:)`.
  private var heads: String?

  /// The labels CSV, and heads fitted with it.
  private func labels(_ workspace: Workspace) throws -> String {
    let csv = try workspace.folder("augment-labels").appendingPathComponent("labels.csv").path
    try """
    path,class,split
    a/astronaut_baseline_q90_256x256.jpg,a,train
    a/chelsea_progressive_300x200.jpg,a,train
    a/flower_rgb_240x160.png,a,val
    b/camera_gray_180x180.jpg,b,train
    b/coins_gray_192x152.png,b,train
    b/china_wide_320x100.jpg,b,val

    """.write(toFile: csv, atomically: true, encoding: .utf8)
    let heads = URL(fileURLWithPath: csv).deletingLastPathComponent().appendingPathComponent("heads.h5").path
    let fit = try runTool(
      "fit-heads",
      [
        "--features", workspace.features, "--labels", csv, "--head", "kind=softmax:class", "--epochs", "3",
        "--output", heads, "--quiet",
      ])
    XCTAssertEqual(fit.status, 0, fit.stderr)
    self.heads = heads
    return csv
  }

  func testSameSeedSameBitsOtherSeedOtherWeightsAndResumeBitForBit() throws {
    let workspace = try Workspace.get()
    let csv = try labels(workspace)
    let folder = try workspace.folder("augment")
    defer { try? FileManager.default.removeItem(at: folder) }
    var log = ""
    func run(_ name: String, _ extra: [String], quiet: Bool = true) throws -> String {
      let output = folder.appendingPathComponent("\(name).h5").path
      let result = try runTool(
        "finetune", arguments(workspace, labels: csv, output: output) + extra + (quiet ? ["--quiet"] : []))
      XCTAssertEqual(result.status, 0, result.stderr)
      log = result.stderr
      return output + ".partial"
    }

    // Interrupted after epoch 1; its arrays, before the continuation overwrites them.
    let interrupted = try run("interrupted", ["--stop-after-epochs", "1"])
    let afterOne = try XCTUnwrap(try Checkpoint.read(path: interrupted))
    XCTAssertEqual(afterOne.epochsDone, 1)

    // Another seed draws other transforms, so the block and the heads move elsewhere.
    let otherSeed = try XCTUnwrap(
      try Checkpoint.read(path: try run("other-seed", ["--augment-seed", "1", "--stop-after-epochs", "1"])))
    var differing = 0
    for (layer, arrays) in afterOne.block.layers {
      for (kind, array) in arrays where otherSeed.block.layers[layer]?[kind] != array { differing += 1 }
    }
    let headsDiff = zip(afterOne.heads, otherSeed.heads).map { abs($0 - $1) }.max() ?? 0
    print("--augment-seed 0 vs 1 after one epoch: \(differing) block arrays differ, heads max |diff| \(headsDiff)")
    XCTAssertGreaterThan(differing, 0)
    XCTAssertGreaterThan(headsDiff, 0)

    // The interrupted run cannot continue with other augmentation, nor without.
    let interruptedOutput = String(interrupted.dropLast(".partial".count))
    for (extra, named) in [(["--augment-seed", "2"], "augment-seed"), (["--vertical-flip"], "augmentation")] {
      let refused = try runTool(
        "finetune", arguments(workspace, labels: csv, output: interruptedOutput) + extra)
      XCTAssertEqual(refused.status, 2, refused.stderr)
      XCTAssertTrue(refused.stderr.contains(named), refused.stderr)
      XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
    }
    let unaugmented = Array(arguments(workspace, labels: csv, output: interruptedOutput).dropLast(augmentation.count))
    let refused = try runTool("finetune", unaugmented)
    XCTAssertEqual(refused.status, 2, refused.stderr)
    XCTAssertTrue(refused.stderr.contains("augmentation"), refused.stderr)

    // Continued to epoch 2, and a run that went to epoch 2 at once: the same arrays, optimiser
    // state and history, bit for bit. The continuation has room (150K) for the validation block
    // inputs (2 x 64 KiB) but not for the training images (4 x 12 KiB): it decodes them for
    // every batch, where the uninterrupted run keeps them in memory.
    _ = try run("interrupted", ["--stop-after-epochs", "2", "--max-memory", "150K"], quiet: false)
    XCTAssertTrue(log.contains("decoded every epoch"), log)
    let uninterrupted = try run("uninterrupted", ["--stop-after-epochs", "2"])
    let a = try XCTUnwrap(try Checkpoint.read(path: interrupted))
    let b = try XCTUnwrap(try Checkpoint.read(path: uninterrupted))
    var arrays = 0
    var differ: [String] = []
    for (name, x, y) in [("block", a.block, b.block), ("best", a.bestBlock, b.bestBlock)] {
      XCTAssertEqual(Set(x.layers.keys), Set(y.layers.keys))
      for (layer, kinds) in x.layers {
        for (kind, array) in kinds {
          arrays += 1
          if y.layers[layer]?[kind] != array { differ.append("\(name)/\(layer)/\(kind)") }
        }
      }
    }
    XCTAssertEqual(a.optimizers.count, b.optimizers.count)
    for (i, (x, y)) in zip(a.optimizers, b.optimizers).enumerated()
    where x.m != y.m || x.v != y.v || x.velocity != y.velocity || x.momentum != y.momentum || x.step != y.step {
      differ.append("optimizer \(i)")
    }
    if a.heads != b.heads { differ.append("heads") }
    if a.bestHeads != b.bestHeads { differ.append("best heads") }
    print("resumed vs uninterrupted after epoch 2: \(arrays) block arrays, differing: \(differ)")
    XCTAssertEqual(differ, [])
    XCTAssertEqual(a.history, b.history)
    XCTAssertEqual(a.history["loss"]?.count, 2)
    XCTAssertEqual(a.history["val_loss"]?.count, 2)
    XCTAssertEqual([a.epochsDone, a.bestEpoch], [b.epochsDone, b.bestEpoch])
    XCTAssertEqual(a.bestLoss, b.bestLoss)
    XCTAssertEqual(a.fingerprint, b.fingerprint)
  }

  func testBadAugmentationFlagsAreRefusedWithOneLineAndNothingWritten() throws {
    // The flags are checked before any file is read, so no workspace is needed.
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("augment-bad-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let model = folder.appendingPathComponent("model.h5").path
    let base = [
      "--images", folder.path, "--heads", folder.appendingPathComponent("heads.h5").path, "--weights", "random",
      "--output", model, "--quiet",
    ]
    let cases: [([String], String)] = [
      (["--zoom-range", "-1"], "zoom range"),
      (["--zoom-range", "1.2,0.8"], "zoom range"),
      (["--zoom-range", "a,b"], "--zoom-range"),
      (["--fill-mode", "foo"], "--fill-mode foo"),
      (["--rotation-range", "abc"], "rotation-range"),
      (["--rotation-range", "-5"], "rotation range"),
      (["--width-shift-range", "x"], "--width-shift-range x"),
      (["--height-shift-range", "-0.2"], "height shift range"),
      (["--shear-range", "nan"], "shear range"),
      (["--cval", "inf", "--fill-mode", "constant"], "cval"),
    ]
    for (extra, expected) in cases {
      let result = try runTool("finetune", base + extra)
      XCTAssertEqual(result.status, 2, "\(extra): \(result.stderr)")
      XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(extra): \(result.stderr)")
      XCTAssertTrue(result.stderr.contains(expected), "\(extra): \(result.stderr)")
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [], "\(extra)")
    }
  }
}
