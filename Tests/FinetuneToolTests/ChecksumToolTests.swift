// finetune's HDF5 files carry checksums: the model it exports (a Keras weight file), with one
// flipped bit, is refused by the tools that read it (one line, exit 2); and its on-disk cache of
// block inputs, damaged between being written and being read back, is never trained on.

import Backbones
import Foundation
import HDF5
import ImageIO
import ToolTesting
import XCTest

@testable import FinetuneJob

final class ChecksumToolTests: XCTestCase {
  func testAFlippedBitInTheExportedModelIsRefusedWithOneLine() throws {
    let workspace = try Workspace.get()
    let folder = try workspace.folder("checksum-model")
    let model = folder.appendingPathComponent("model.h5").path
    let finetune = try runTool(
      "finetune",
      [
        "--images", workspace.images, "--heads", workspace.heads, "--weights", "random", "--output", model,
        "--epochs", "1", "--batch-size", "8", "--val-split", "0", "--quiet",
      ])
    XCTAssertEqual(finetune.status, 0, finetune.stderr)
    XCTAssertEqual(try flipStoredBit(of: "conv1_conv/conv1_conv/kernel:0", in: model, byte: 1001), 0..<7)

    let features = folder.appendingPathComponent("features.h5").path
    let extract = try runTool(
      "extract", ["--images", workspace.images, "--output", features, "--weights", model, "--size", "64x64", "--quiet"])
    XCTAssertEqual(extract.status, 2, extract.stderr)
    XCTAssertEqual(
      extract.stderr,
      "headstart extract: --weights \(model): /conv1_conv/conv1_conv/kernel:0 rows 0..<7 fail their checksum "
        + "(the file is corrupt)\n")
    XCTAssertFalse(FileManager.default.fileExists(atPath: features))
    // predict and finetune compare the file's SHA-256 with the one its heads file records before
    // they read it: the damaged model is refused there already.
    let predict = try runTool(
      "predict",
      [
        "--heads", folder.appendingPathComponent("model.heads.h5").path, "--weights", model, "--images",
        workspace.images, "--output", folder.appendingPathComponent("p.csv").path,
      ])
    XCTAssertEqual(predict.status, 2, predict.stderr)
    XCTAssertTrue(predict.stderr.contains("is not what the heads"), predict.stderr)
  }

  func testTheBlockInputCacheCarriesChecksumsAndADamagedImageIsNotUsed() throws {
    let workspace = try Workspace.get()
    let cache = try workspace.folder("checksum-cache")
    let paths = try FileManager.default.subpathsOfDirectory(atPath: workspace.images).filter { $0.hasSuffix(".jpg") }
      .sorted()
    let backbone = try Backbone(kind: .resnet50, weights: SyntheticWeights.make(.resnet50, seed: 0))
    var inputs = try BlockInputs.compute(
      backbone: backbone, root: workspace.images, paths: paths, loading: LoadOptions(height: 64, width: 64),
      batchSize: 2, threads: 2, maxBytes: 1, cacheDirectory: cache.path, quiet: true)
    defer { inputs.removeCache() }
    let disk = try XCTUnwrap(inputs.disk)
    XCTAssertTrue(try disk.dataset.carriesChecksums())
    XCTAssertEqual(try disk.dataset.chunkShape(), [1, inputs.stride], "one image a chunk")
    let intact = try inputs.gather([0, 2])
    // Closed (HDF5 keeps no chunk in memory), damaged, opened again.
    try disk.dataset.close()
    try disk.file.close()
    XCTAssertEqual(try flipStoredBit(of: "block_inputs", in: disk.path, chunk: 2, byte: 4 * 99 + 1), 2..<3)
    let file = try HDF5File.open(path: disk.path)
    inputs.disk = (try file.openDataset("block_inputs"), file, disk.path)
    XCTAssertEqual(try inputs.gather([0]), Array(intact[..<inputs.stride]), "the other images still read")
    XCTAssertThrowsError(try inputs.gather([0, 2])) {
      XCTAssertEqual("\($0)", "\(disk.path): /block_inputs row 2 fails its checksum (the file is corrupt)")
    }
  }
}
