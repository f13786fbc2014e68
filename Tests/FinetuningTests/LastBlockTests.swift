// The one face over both trained blocks: shapes, names, a step through the protocol, and the
// features of the written-back weights.
import Backbones
import Finetuning
import Heads
import XCTest

final class LastBlockTests: XCTestCase {
  func testEveryBackbone() throws {
    for (kind, channels, layers, width) in [
      (BackboneKind.resnet50, 1024, 20, 2048), (.vgg16, 512, 3, 512), (.vgg19, 512, 4, 512),
    ] {
      let shape = try LastBlock.inputShape(kind, height: 64, width: 96)
      XCTAssertEqual([shape.height, shape.width, shape.channels], [4, 6, channels], "\(kind)")
      XCTAssertEqual(LastBlock.layerNames(kind).count, layers, "\(kind)")
      var weights = KerasWeights()
      let names = Set(LastBlock.layerNames(kind))
      for spec in parameterSpecs(for: kind) where names.contains(spec.layer) {
        weights.layers[spec.layer, default: [:]][spec.kind] = SyntheticWeights.array(spec, seed: 1)
      }
      let specs = [HeadSpec(name: "kind", kind: .softmax, outputs: 2)]
      let heads = MultiHeadModel(
        specs: specs, inputWidth: width,
        parameters: StageGradientTests.values(MultiHeadModel.parameterCount(specs: specs, inputWidth: width), seed: 1))
      let trainer = try LastBlock.trainer(
        kind, weights: weights, heads: heads, optimizer: .sgd(learningRate: 1e-3), height: 64, width: 96)
      let input = StageGradientTests.values(2 * 4 * 6 * channels, seed: 2).map { max(0, $0) }
      let targets = [HeadTargets.classes([0, 1], count: 2)]
      let (first, second) = try input.withUnsafeBufferPointer {
        (
          try trainer.step(blockInput: $0, count: 2, targets: targets),
          try trainer.loss(blockInput: $0, count: 2, targets: targets)
        )
      }
      XCTAssertLessThan(second.total, first.total, "\(kind): one small SGD step lowers the batch's loss")
      let features = try input.withUnsafeBufferPointer { try trainer.features(blockInput: $0, count: 2) }
      XCTAssertEqual(features.count, 2 * width)
      var written = KerasWeights()
      trainer.write(into: &written)
      XCTAssertEqual(Set(written.layers.keys), names)
      XCTAssertNotEqual(
        written.layers[LastBlock.layerNames(kind)[0]]![.kernel], weights.layers[LastBlock.layerNames(kind)[0]]![.kernel]
      )
    }
  }

  /// Validation's one call gives exactly what `loss` and `features` give apart, for every block
  /// and every batch-norm mode (with batch statistics, the losses differ from the features' pass).
  func testLossAndFeaturesEqualTheSeparatePasses() throws {
    let modes: [FinetuneBatchNorm] = [.frozenStatistics, .frozen, .training(momentum: 0.99)]
    for (kind, channels, width, batchNorm) in [
      (BackboneKind.vgg16, 512, 512, FinetuneBatchNorm.frozenStatistics)
    ] + modes.map({ (BackboneKind.resnet50, 1024, 2048, $0) }) {
      var weights = KerasWeights()
      let names = Set(LastBlock.layerNames(kind))
      for spec in parameterSpecs(for: kind) where names.contains(spec.layer) {
        weights.layers[spec.layer, default: [:]][spec.kind] = SyntheticWeights.array(spec, seed: 3)
      }
      let specs = [
        HeadSpec(name: "kind", kind: .softmax, outputs: 3), HeadSpec(name: "level", kind: .tanh, outputs: 1),
      ]
      let heads = MultiHeadModel(
        specs: specs, inputWidth: width,
        parameters: StageGradientTests.values(MultiHeadModel.parameterCount(specs: specs, inputWidth: width), seed: 4))
      let trainer = try LastBlock.trainer(
        kind, weights: weights, heads: heads, optimizer: .sgd(learningRate: 1e-3), batchNorm: batchNorm,
        height: 64, width: 96)
      let input = StageGradientTests.values(3 * 4 * 6 * channels, seed: 5).map { max(0, $0) }
      let targets = [
        HeadTargets.classes([0, 2, 1], count: 3), HeadTargets.regression([0.5, -0.25, 0.75], low: -1, high: 1),
      ]
      try input.withUnsafeBufferPointer { block in
        let apart = (
          try trainer.loss(blockInput: block, count: 3, targets: targets),
          try trainer.features(blockInput: block, count: 3)
        )
        let together = try trainer.lossAndFeatures(
          blockInput: block, fixed: .init(start: nil, count: 0), count: 3, targets: targets)
        XCTAssertEqual(together.losses.total, apart.0.total, "\(kind) \(batchNorm)")
        XCTAssertEqual(together.losses.heads, apart.0.heads, "\(kind) \(batchNorm)")
        XCTAssertEqual(together.features, apart.1, "\(kind) \(batchNorm)")
        XCTAssertEqual(together.features.count, 3 * width)
      }
    }
  }
}
