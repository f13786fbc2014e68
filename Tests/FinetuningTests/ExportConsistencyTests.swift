// What `finetune` will export must compute what it trained: the stage written back into the
// backbone's Keras weights (and through a Keras 2 layout file) gives, through the ordinary
// frozen `Backbone` forward pass, the features the trainer computes with its own passes.
import Backbones
import Engine
import Finetuning
import Foundation
import Heads
import XCTest

final class ExportConsistencyTests: XCTestCase {
  func testNamesMapBothWays() throws {
    let weights = SyntheticWeights.make(.resnet50, seed: 3)
    let stage = try ResNet50LastStage(weights: weights)
    var written = KerasWeights()
    stage.write(into: &written)
    XCTAssertEqual(Set(written.layers.keys), Set(ResNet50LastStage.layerNames))
    XCTAssertEqual(ResNet50LastStage.layerNames.count, 20)
    for (layer, arrays) in written.layers {
      XCTAssertEqual(arrays, weights.layers[layer], layer)
    }
    // Keras lists 40 trainable variables for conv5 (20 with BN layers frozen).
    XCTAssertEqual(ResNet50LastStage.trainableVariables().count, 40)
    XCTAssertEqual(ResNet50LastStage.trainableVariables(batchNormAffine: false).count, 20)
    XCTAssertEqual(ResNet50LastStage.trainableVariables().first, "conv5_block1_0_conv/kernel")
    // A missing or misshapen array is named.
    var broken = weights
    broken.layers["conv5_block2_2_conv"]![.kernel] = WeightArray(shape: [1], values: [0])
    XCTAssertThrowsError(try ResNet50LastStage(weights: broken)) { error in
      XCTAssertEqual(
        "\(error)",
        "weights: conv5_block2_2_conv/kernel should have shape [3, 3, 512, 512], the weights have shape [1]")
    }
  }

  func testExportedBackboneComputesTrainedFeatures() throws {
    let manifest = try FinetuneManifest.load()
    var weights = SyntheticWeights.make(.resnet50, seed: 0)
    let images = try FinetuneManifest.floats("input.f32")
    let blockInput = try FinetuneManifest.floats("block_input_random.f32")
    let size = try ResNet50LastStage.blockInputSize(height: manifest.size, width: manifest.size)
    let heads = MultiHeadModel(
      specs: FinetuneManifest.specs, inputWidth: 2048, parameters: try FinetuneManifest.floats("heads_initial.f32"))
    // Training-mode batch norm, so the moving statistics change too and must be exported.
    let trainer = try ResNet50LastStageTrainer(
      stage: try ResNet50LastStage(weights: weights), heads: heads, optimizer: .sgd(learningRate: 0.005),
      batchNorm: .training(momentum: 0.99), inputHeight: size.height, inputWidth: size.width)
    try blockInput.withUnsafeBufferPointer {
      _ = try trainer.step(blockInput: $0, count: manifest.batch, targets: manifest.targets)
    }
    trainer.stage.write(into: &weights)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("finetuned-\(getpid()).h5").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try writeKerasWeights(
      weights, layerOrder: BackboneKind.resnet50.kerasLayers.map(\.name), to: path, layout: .keras2)
    let backbone = try Backbone(kind: .resnet50, weights: try readKerasWeights(path: path), winograd: false)
    let exported = try images.withUnsafeBufferPointer {
      try backbone.features($0, count: manifest.batch, height: manifest.size, width: manifest.size, taps: ["last"])
    }
    let prefix = try images.withUnsafeBufferPointer {
      try ResNet50LastStage.blockInput(
        backbone, images: $0, count: manifest.batch, height: manifest.size, width: manifest.size)
    }
    let trained = try prefix.withUnsafeBufferPointer { try trainer.features(blockInput: $0, count: manifest.batch) }
    var difference: Float = 0
    for (a, b) in zip(exported, trained) { difference = max(difference, abs(a - b)) }
    print("exported backbone vs trainer features: max |diff| \(difference)")
    XCTAssertLessThan(difference, 1e-5)
  }
}
