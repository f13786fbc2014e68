// --cache-precision float16: the block inputs kept as IEEE binary16 train to nearly the weights of
// float32, and the on-disk cache (HDF5 float16) gives the in-memory float16 run's bits and is
// removed at the end.

import Backbones
import Foundation
import Heads
import ToolTesting
import XCTest

final class Float16CacheTests: XCTestCase {
  /// The harness' full-batch SGD run (8 images, batch 8, 2 epochs): each epoch one step.
  private func arguments(_ workspace: Workspace, output: String) -> [String] {
    [
      "--images", workspace.images, "--heads", workspace.heads, "--weights", "random", "--output", output,
      "--epochs", "2", "--batch-size", "8", "--val-split", "0", "--optimizer", "sgd", "--learning-rate", "1e-2",
      "--quiet",
    ]
  }

  func testFloat16TrainsLikeFloat32InMemoryAndOnDisk() throws {
    let workspace = try Workspace.get()
    let folder = try workspace.folder("float16")
    func run(_ name: String, _ extra: [String]) throws -> (block: KerasWeights, heads: HeadsFile) {
      let model = folder.appendingPathComponent("\(name).h5").path
      let result = try runTool("finetune", arguments(workspace, output: model) + extra)
      XCTAssertEqual(result.status, 0, result.stderr)
      return (
        try readKerasWeightFile(path: model).weights,
        try HeadsFile.read(path: folder.appendingPathComponent("\(name).heads.h5").path)
      )
    }
    let wide = try run("float32", [])
    let half = try run("float16", ["--cache-precision", "float16"])
    let cache = try workspace.folder("float16-cache")
    let disk = try run(
      "float16-disk", ["--cache-precision", "float16", "--max-memory", "1K", "--cache-dir", cache.path])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.path), [], "the cache is removed")

    // Memory and disk round the same way (Swift's Float16, bits copied by HDF5): same result.
    var differing = 0
    for (layer, arrays) in half.block.layers {
      for (kind, array) in arrays where disk.block.layers[layer]?[kind] != array { differing += 1 }
    }
    XCTAssertEqual(differing, 0, "arrays differing between float16 in memory and on disk")
    XCTAssertEqual(disk.heads.parameters, half.heads.parameters)

    // float16 against float32. Rounding the block input costs a relative error of at most 2^-11
    // (4.9e-4) per value (the random prefix's outputs, up to ~5e5, are also scaled by a power of
    // two, which is exact); the forward pass and the gradients are piecewise linear in the input,
    // so the updates and the loss move by at most about that share of themselves (2.6e-7 and 3e-5
    // measured: the rounding errors mostly average out). A cache bug (a wrong row, a lost scale)
    // moves them by the order of the update itself. The conv5 bound is only a sanity check: the
    // block's start weights are not at hand to measure its update.
    let start = try HeadsFile.read(path: workspace.heads).parameters
    let headUpdate = zip(wide.heads.parameters, start).map { abs($0 - $1) }.max() ?? 0
    let headGap = zip(wide.heads.parameters, half.heads.parameters).map { abs($0 - $1) }.max() ?? 0
    var blockGap: Float = 0
    var blockScale: Float = 0
    var compared = 0
    for (layer, arrays) in wide.block.layers where layer.hasPrefix("conv5") {
      for (kind, array) in arrays {
        let other = try XCTUnwrap(half.block.layers[layer]?[kind])
        for (a, b) in zip(array.values, other.values) {
          blockGap = max(blockGap, abs(a - b))
          blockScale = max(blockScale, abs(a))
        }
        compared += 1
      }
    }
    let loss32 = try XCTUnwrap(wide.heads.training.history["loss"])
    let loss16 = try XCTUnwrap(half.heads.training.history["loss"])
    let lossGap = zip(loss32, loss16).map { abs($0 - $1) / abs($0) }.max() ?? 0
    print(
      "float16 vs float32 cache: heads max |diff| \(headGap) (largest update \(headUpdate)); conv5 "
        + "(\(compared) arrays) max |diff| \(blockGap) (largest |weight| \(blockScale)); loss \(loss16) vs "
        + "\(loss32), relative \(lossGap)")
    XCTAssertGreaterThan(headUpdate, 0)
    XCTAssertGreaterThan(headGap, 0, "float16 changed nothing: is the option applied?")
    XCTAssertLessThan(headGap, headUpdate / 2048)
    XCTAssertLessThan(lossGap, 1.0 / 2048)
    XCTAssertGreaterThan(compared, 0)
    XCTAssertLessThan(blockGap, 1e-4 * blockScale)
  }
}
