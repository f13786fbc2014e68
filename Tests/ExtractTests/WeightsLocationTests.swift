// Weights as users have them: Keras' standard file in $KERAS_HOME/models, its SHA-256 recorded,
// the ImageNet classifier on top accepted and reported; an early Keras 3 native file whose
// layers are keyed by class group.

import Backbones
import FeatureStore
import Foundation
import HDF5
import Support
import ToolTesting
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

  /// A Keras 3 native `.weights.h5` as releases before the `name` attribute wrote it: groups
  /// named as real Keras 3.15.1 named them (Fixtures/weights/native_groups.json), weightless
  /// layers as empty `vars`, arrays in creation order, no names. `extract` must name the layers
  /// from the backbone's layer list and give the features of the same weights generated.
  func testEarlyKeras3NativeFileWithClassGroupsGivesTheSameFeatures() throws {
    let json = try Data(contentsOf: fixturesDirectory.appendingPathComponent("weights/native_groups.json"))
    let fixture = try JSONSerialization.jsonObject(with: json) as? [String: Any]
    let vgg16 = try XCTUnwrap((fixture?["vgg16"] as? [String: Any])?["groups"] as? [String: String])

    let folder = try temporaryFolder(self, "native-groups")
    let file = folder.appendingPathComponent("vgg16.weights.h5")
    let weights = SyntheticWeights.make(.vgg16, seed: 0)
    try HDF5File.withNewFile(file.path) { root in
      let layers = try root.createGroup("layers")
      for (group, layer) in vgg16.sorted(by: { $0.key < $1.key }) {
        let vars = try layers.createGroup(group).createGroup("vars")
        let arrays = WeightKind.allCases.compactMap { weights.layers[layer]?[$0] }
        for (index, array) in arrays.enumerated() {
          _ = try vars.createDataset(String(index), floats: array.values, shape: array.shape)
        }
      }
    }
    XCTAssertTrue(try readKerasWeightFile(path: file.path).layerNamesAreClassGroups)

    let images = folder.appendingPathComponent("images")
    let sample = repositoryRoot.appendingPathComponent("Datasets/sample/images")
    try copy(
      listing(sample).filter { $0.hasSuffix(".jpg") }.prefix(2).map { sample.appendingPathComponent($0) }, into: images)
    let fromFile = folder.appendingPathComponent("file.h5")
    let generated = folder.appendingPathComponent("random.h5")
    let common = ["--images", images.path, "--backbone", "vgg16", "--size", "32x32", "--quiet"]
    let result = try runExtract(common + ["--output", fromFile.path, "--weights", file.path])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertEqual(
      try runExtract(common + ["--output", generated.path, "--weights", "random", "--seed", "0"]).status, 0)
    XCTAssertEqual(
      try FeatureFile.read(path: fromFile.path).features, try FeatureFile.read(path: generated.path).features,
      "the renamed native file must give the features of the same weights generated")
  }
}
