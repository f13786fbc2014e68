// Which variables each batch-norm mode trains, as Keras does: frozen statistics (the base
// model called with training=False) trains kernels, biases, gamma and beta and leaves the
// moving statistics alone; frozen layers (BN trainable=False) leave gamma and beta too;
// training mode moves everything, the moving statistics by the momentum rule.
import Backbones
import Engine
import Finetuning
import Heads
import XCTest

final class BatchNormModeTests: XCTestCase {
  func stepped(_ mode: FinetuneBatchNorm) throws -> (before: ResNet50LastStage, after: ResNet50LastStage) {
    let specs = [HeadSpec(name: "kind", kind: .softmax, outputs: 3)]
    let heads = MultiHeadModel(
      specs: specs, inputWidth: 2048,
      parameters: StageGradientTests.values(MultiHeadModel.parameterCount(specs: specs, inputWidth: 2048), seed: 2))
    let stage = try ResNet50LastStage(weights: StageGradientTests.weights)
    let trainer = try ResNet50LastStageTrainer(
      stage: stage, heads: heads, optimizer: .sgd(learningRate: 0.1), batchNorm: mode, inputHeight: 4,
      inputWidth: 4)
    let input = StageGradientTests.values(2 * 16 * 1024, seed: 4).map { max(0, $0 + 0.3) }
    try input.withUnsafeBufferPointer {
      _ = try trainer.step(blockInput: $0, count: 2, targets: [HeadTargets.classes([0, 1], count: 3)])
    }
    return (stage, trainer.stage)
  }

  func testWhatEachModeTrains() throws {
    for mode in [FinetuneBatchNorm.frozenStatistics, .frozen, .training(momentum: 0.99)] {
      let (before, after) = try stepped(mode)
      for (b, a) in zip(before.blocks, after.blocks) {
        for (u, v) in [(b.conv1, a.conv1), (b.conv2, a.conv2), (b.conv3, a.conv3)] {
          XCTAssertNotEqual(u.kernel, v.kernel, "\(mode) kernel")
          let statistics =
            u.batchNorm.movingMean != v.batchNorm.movingMean
            || u.batchNorm.movingVariance != v.batchNorm.movingVariance
          let affine = u.batchNorm.gamma != v.batchNorm.gamma || u.batchNorm.beta != v.batchNorm.beta
          switch mode {
          case .frozenStatistics:
            XCTAssertFalse(statistics, "\(mode)")
            XCTAssertTrue(affine, "\(mode)")
          case .frozen:
            XCTAssertFalse(statistics, "\(mode)")
            XCTAssertFalse(affine, "\(mode)")
          case .training:
            XCTAssertTrue(statistics, "\(mode)")
            XCTAssertTrue(affine, "\(mode)")
          }
        }
      }
    }
  }

  func testBadInputsAreNamed() throws {
    let stage = try ResNet50LastStage(weights: StageGradientTests.weights)
    let narrow = MultiHeadModel(
      specs: [HeadSpec(name: "kind", kind: .softmax, outputs: 3)], inputWidth: 1024,
      parameters: [Float](repeating: 0, count: 1024 * 3 + 3))
    XCTAssertThrowsError(
      try ResNet50LastStageTrainer(stage: stage, heads: narrow, optimizer: .sgd(), inputHeight: 2, inputWidth: 2)
    ) { error in
      XCTAssertEqual(
        "\(error)",
        "the heads take 1024 features but the fine-tuned block and the taps before it give 2048")
    }
    XCTAssertThrowsError(try VGGLastBlock(kind: .resnet50, weights: KerasWeights())) { error in
      XCTAssertEqual("\(error)", "the backbone is resnet50, but this last block belongs to vgg16 or vgg19")
    }
  }

  func testTargetsGatheredPerBatch() {
    let targets = HeadTargets.classes([2, -1, 0, 1], count: 3)
    let batch = targets.gathering(rows: [3, 1, 0], width: 3)
    XCTAssertEqual(batch.values, [0, 1, 0, 0, 0, 0, 0, 0, 1])
    XCTAssertEqual(batch.rowWeights, [1, 0, 1])
  }
}
