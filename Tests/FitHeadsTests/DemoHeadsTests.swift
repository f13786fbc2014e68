// The demo's heads (Datasets/sample/heads.yaml) on random ResNet50 weights, what a fresh machine
// without ImageNet files gets: the primary-colour head on the first convolution must learn for
// real (12 colours, chance 1/12), or the demo shows a newcomer nothing but chance.

import Foundation
import ToolTesting
import XCTest

final class DemoHeadsTests: XCTestCase {
  func testPrimaryColourLearnsFromConv1WithRandomWeights() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("demo-heads-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let sample = repositoryRoot.appendingPathComponent("Datasets/sample")
    let features = folder.appendingPathComponent("f.h5").path
    // 64x64 instead of the demo's 224x224 keeps the test quick; colour does not need the detail.
    let extract = try runTool(
      "extract",
      [
        "--images", sample.appendingPathComponent("images").path, "--labels",
        sample.appendingPathComponent("labels.csv").path, "--backbone", "resnet50", "--weights", "random",
        "--seed", "0", "--size", "64x64", "--taps", "conv1_relu,conv5_block3_out", "--output", features, "--quiet",
      ])
    XCTAssertEqual(extract.status, 0, extract.stderr)
    let metrics = folder.appendingPathComponent("m.json").path
    let fit = try runFitHeads([
      "--features", features, "--heads", sample.appendingPathComponent("heads.yaml").path, "--metrics", metrics,
      "--output", folder.appendingPathComponent("h.h5").path, "--quiet",
    ])
    XCTAssertEqual(fit.status, 0, fit.stderr)
    let val = try XCTUnwrap(try headMetrics(metrics, head: "primary")["val"] as? [String: Any])
    let accuracy = try XCTUnwrap(val["accuracy"] as? Double)
    print("demo heads, random weights: primary colour val accuracy \(accuracy)")
    XCTAssertGreaterThan(accuracy, 0.5)
  }
}
