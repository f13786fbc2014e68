// Weights as users have them: Keras' standard file in $KERAS_HOME/models, its SHA-256 recorded,
// the ImageNet classifier on top accepted and reported.

import Backbones
import FeatureStore
import Foundation
import XCTest

@testable import Extraction

final class WeightsLocationTests: XCTestCase {
  func testKerasDefaultFileIsFoundHashedAndEqualsTheSameWeightsGeneratedInMemory() throws {
    let folder = try temporaryFolder(self, "keras-home")
    let models = folder.appendingPathComponent("keras/models")
    try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
    // The synthetic VGG16 weights (seed 0) plus a classifier layer, in Keras 2 layout, under
    // Keras' own file name.
    var weights = SyntheticWeights.make(.vgg16, seed: 0)
    weights.layers["predictions"] = [
      .kernel: WeightArray(shape: [4, 2], values: [Float](repeating: 0.5, count: 8)),
      .bias: WeightArray(shape: [2], values: [0, 0]),
    ]
    var order: [String] = []
    for spec in parameterSpecs(for: .vgg16) where order.last != spec.layer { order.append(spec.layer) }
    let file = models.appendingPathComponent(BackboneKind.vgg16.kerasWeightsFileName)
    try writeKerasWeights(weights, layerOrder: order + ["predictions"], to: file.path, layout: .keras2)

    let images = folder.appendingPathComponent("images")
    let sample = repositoryRoot.appendingPathComponent("Datasets/sample/images")
    try copy(
      listing(sample).filter { $0.hasSuffix(".jpg") }.prefix(3).map { sample.appendingPathComponent($0) }, into: images)
    let fromFile = folder.appendingPathComponent("file.h5")
    let result = try runExtract(
      ["--images", images.path, "--output", fromFile.path, "--backbone", "vgg16", "--size", "32x32"],
      environment: ["KERAS_HOME": folder.appendingPathComponent("keras").path])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(result.stderr.contains("ignored the top classifier (predictions)"), result.stderr)

    let generated = folder.appendingPathComponent("random.h5")
    XCTAssertEqual(
      try runExtract([
        "--images", images.path, "--output", generated.path, "--backbone", "vgg16", "--size", "32x32",
        "--weights", "random", "--seed", "0", "--quiet",
      ]).status, 0)

    let a = try FeatureFile.read(path: fromFile.path)
    let b = try FeatureFile.read(path: generated.path)
    XCTAssertEqual(
      a.features, b.features, "the same weights, read from a file or generated, must give the same features")
    XCTAssertEqual(a.attributes.weightsFile, file.path)
    XCTAssertEqual(a.attributes.weightsSHA256, try SHA256.hexDigest(ofFile: file.path))
    XCTAssertNil(a.attributes.warning)
    XCTAssertEqual(b.attributes.weightsFile, "random (seed 0)")
    XCTAssertNotNil(b.attributes.warning)
  }
}
