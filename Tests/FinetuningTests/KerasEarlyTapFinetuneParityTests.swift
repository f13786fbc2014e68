// Keras parity of fine-tuning with a head on a tap before the trained block
// (make_keras_finetune_fixtures.py, `early_tap`): VGG16's block5 trained by SGD with momentum
// from the images, the heads' row [block1_pool, block5_pool]; `kind` reads block1_pool alone
// (a fixed input: only its weights train), `score` reads both (block5 trains through its
// block5_pool columns). Losses, head updates and block5 updates within the 1e-4; and,
// without Keras, the early-tap head's update is what that head trained on extract's features
// alone gets.
import Backbones
import Engine
import Finetuning
import Foundation
import Heads
import XCTest

private struct EarlyTapManifest: Decodable {
  struct Run: Decodable {
    var name: String
    var taps: [String]
    var optimizer: [String: FinetuneManifest.OptimizerValue]
    var steps: Int
    var losses: [FinetuneManifest.Losses]
    var abs_delta_sums: [Double]
  }
  var batch: Int
  var size: Int
  var runs: [Run]
  var arrays: [String: [FinetuneManifest.StoredArray]]
}

final class KerasEarlyTapFinetuneParityTests: XCTestCase {
  static let (earlyWidth, rowWidth) = (64, 64 + 512)
  /// `kind` on block1_pool's columns only, `score` on the whole row.
  static var specs: [HeadSpec] {
    var specs = FinetuneManifest.specs
    specs[0].inputColumns = [0..<earlyWidth]
    return specs
  }

  /// Keras' head arrays (kind kernel (64, 3), bias, score kernel (576, 2), bias) in
  /// MultiHeadModel's layout: kind's kernel (576, 3) with zero rows past block1_pool's.
  static func expand(_ keras: [Float]) -> [Float] {
    let kindKernel = earlyWidth * 3
    return Array(keras[0..<kindKernel]) + [Float](repeating: 0, count: (rowWidth - earlyWidth) * 3)
      + Array(keras[kindKernel...])
  }

  /// The reverse of `expand`; also returns the largest magnitude of the rows it dropped.
  static func contract(_ ours: [Float]) -> (keras: [Float], dropped: Float) {
    let kindKernel = earlyWidth * 3
    let dropped = ours[kindKernel..<(rowWidth * 3)].map(abs).max() ?? 0
    return (Array(ours[0..<kindKernel]) + Array(ours[(rowWidth * 3)...]), dropped)
  }

  func testTrainingWithAnEarlyTapHeadMatchesKeras() throws {
    let manifest = try JSONDecoder().decode(
      EarlyTapManifest.self,
      from: Data(contentsOf: FinetuneManifest.directory.appendingPathComponent("early_tap_manifest.json")))
    let run = try XCTUnwrap(manifest.runs.first)
    let targets = try FinetuneManifest.load().targets
    let images = try FinetuneManifest.floats("input.f32")
    let weights = SyntheticWeights.make(.vgg16, seed: 0)
    let backbone = try Backbone(kind: .vgg16, weights: weights, winograd: false)
    let row = try FeatureRow(.vgg16, taps: run.taps, widths: [Self.earlyWidth, 512])
    XCTAssertEqual(row.fixedTaps, ["block1_pool"])
    XCTAssertEqual(row.blockColumns, Self.earlyWidth..<Self.rowWidth)
    XCTAssertEqual(row.fixedTaps(readBy: Self.specs[0]), ["block1_pool"])
    XCTAssertNil(row.fixedTaps(readBy: Self.specs[1]))
    let (block, fixed) = try images.withUnsafeBufferPointer {
      try LastBlock.input(
        backbone, images: $0, count: manifest.batch, height: manifest.size, width: manifest.size, row: row)
    }
    let size = try VGGLastBlock.blockInputSize(.vgg16, height: manifest.size, width: manifest.size)
    let initialHeads = try FinetuneManifest.floats("early_tap_heads_initial.f32")
    let trainer = try VGGLastBlockTrainer(
      block: try VGGLastBlock(kind: .vgg16, weights: weights),
      heads: MultiHeadModel(specs: Self.specs, inputWidth: Self.rowWidth, parameters: Self.expand(initialHeads)),
      optimizer: .sgd(
        learningRate: run.optimizer["learning_rate"]!.number, momentum: run.optimizer["momentum"]!.number),
      row: row, inputHeight: size.height, inputWidth: size.width)

    // The heads' input row before training: Keras' GAP + l2_normalize of both taps.
    let kerasRow = try FinetuneManifest.floats("early_tap_features.f32")
    let ourRow = try block.withUnsafeBufferPointer { b in
      try fixed.withUnsafeBufferPointer { try trainer.features(blockInput: b, fixed: $0, count: manifest.batch) }
    }
    let rowDiff = zip(ourRow, kerasRow).map { abs($0 - $1) }.max()!
    print("early-tap row (block1_pool fixed, block5_pool trained) vs Keras: max |diff| = \(rowDiff)")
    XCTAssertEqual(ourRow.count, kerasRow.count)
    XCTAssertLessThan(rowDiff, 1e-5)

    var lossError = 0.0
    for keras in run.losses {
      let losses = try block.withUnsafeBufferPointer { b in
        try fixed.withUnsafeBufferPointer {
          try trainer.step(blockInput: b, fixed: $0, count: manifest.batch, targets: targets)
        }
      }
      for (ours, theirs) in zip([losses.total] + losses.heads, [keras.total, keras.kind, keras.score]) {
        lossError = max(lossError, abs(ours - theirs) / abs(theirs))
      }
    }
    let kerasHeads = try FinetuneManifest.floats("\(run.name)_heads.f32")
    let (ourHeads, dropped) = Self.contract(trainer.heads.parameters)
    let headsUlps = initialHeads.map { Double($0.ulp) }.max()! * Double(run.steps)
    let headsScale = zip(kerasHeads, initialHeads).map { abs(Double($0) - Double($1)) }.max()!
    let headsRaw = zip(ourHeads, kerasHeads).map { abs(Double($0) - Double($1)) }.max()!
    let headsError = max(0, headsRaw - headsUlps) / headsScale
    // The early-tap head moved (its own weights train).
    let kindMoved = zip(ourHeads[0..<(Self.earlyWidth * 3)], initialHeads).map { abs($0 - $1) }.max()!

    var trained = KerasWeights()
    trainer.block.write(into: &trained)
    let deltas = try FinetuneManifest.floats("\(run.name)_deltas.f32")
    var offset = 0
    var worst = 0.0
    var worstSum = 0.0
    for (a, array) in manifest.arrays["vgg16"]!.enumerated() {
      let role = WeightKind(rawValue: array.role)!
      let ours = trained.layers[array.layer]![role]!
      let initial = weights.layers[array.layer]![role]!
      let keras = Array(deltas[offset..<(offset + array.indices.count)])
      offset += array.indices.count
      let update = array.indices.map { Double(ours.values[$0]) - Double(initial.values[$0]) }
      let scale = keras.map { abs(Double($0)) }.max()!
      let ulps = array.indices.map { Double(initial.values[$0].ulp) }.max()! * Double(run.steps)
      let error = zip(update, keras).map { abs($0 - Double($1)) }.max()!
      worst = max(worst, max(0, error - ulps) / scale)
      let sum = absoluteDifferenceSum(ours.values, initial.values)
      worstSum = max(worstSum, abs(sum - run.abs_delta_sums[a]) / run.abs_delta_sums[a])
    }
    XCTAssertEqual(offset, deltas.count)
    print(
      "\(run.name): losses rel \(lossError), heads update rel \(headsError) beyond rounding (kind head moved "
        + "\(kindMoved), its rows past block1_pool \(dropped)), block5 sampled update rel \(worst) beyond "
        + "rounding, whole-array sum |update| rel \(worstSum)")
    XCTAssertLessThan(lossError, 1e-5)
    XCTAssertLessThan(headsError, 1e-4)
    XCTAssertGreaterThan(kindMoved, 1e-4)
    XCTAssertEqual(dropped, 0, "the kind head's kernel rows outside its tap stay zero")
    XCTAssertLessThan(worst, 1e-4)
    XCTAssertLessThan(worstSum, 1e-4)
  }

  /// The early tap's fixed features are extract's for the same images, and with the block frozen
  /// and the block head at loss weight 0, one step moves the early-tap head exactly as training
  /// that head on those features alone does (plain SGD: p - lr * gradient).
  func testEarlyTapHeadTrainsAsOnExtractedFeatures() throws {
    let manifest = try FinetuneManifest.load()
    let images = try FinetuneManifest.floats("input.f32")
    let (batch, side) = (manifest.batch, manifest.size)
    let weights = SyntheticWeights.make(.vgg16, seed: 0)
    let backbone = try Backbone(kind: .vgg16, weights: weights)
    let row = try FeatureRow(.vgg16, taps: ["block1_pool", "block5_pool"], widths: [Self.earlyWidth, 512])
    let (block, fixed) = try images.withUnsafeBufferPointer {
      try LastBlock.input(backbone, images: $0, count: batch, height: side, width: side, row: row)
    }
    let extracted = try images.withUnsafeBufferPointer {
      try backbone.features($0, count: batch, height: side, width: side, taps: ["block1_pool"])
    }
    let featureDiff = zip(fixed, extracted).map { abs($0 - $1) }.max()!
    print("fixed block1_pool features vs extract's: max |diff| = \(featureDiff)")
    XCTAssertEqual(fixed.count, extracted.count)
    XCTAssertLessThanOrEqual(featureDiff, 1e-6)

    var specs = Self.specs
    specs[1].lossWeight = 0
    let start = Self.expand(try FinetuneManifest.floats("early_tap_heads_initial.f32"))
    let learningRate = 0.01
    let size = try VGGLastBlock.blockInputSize(.vgg16, height: side, width: side)
    let trainer = try VGGLastBlockTrainer(
      block: try VGGLastBlock(kind: .vgg16, weights: weights),
      heads: MultiHeadModel(specs: specs, inputWidth: Self.rowWidth, parameters: start),
      optimizer: .sgd(learningRate: learningRate, momentum: 0), trainable: [], row: row, inputHeight: size.height,
      inputWidth: size.width)
    try block.withUnsafeBufferPointer { b in
      try fixed.withUnsafeBufferPointer {
        _ = try trainer.step(blockInput: b, fixed: $0, count: batch, targets: manifest.targets)
      }
    }

    // The same head on extract's features alone (the other columns zero: it does not read them).
    var alone = specs[0]
    alone.inputColumns = nil
    let kindCount = Self.rowWidth * 3 + 3
    let kindStart = Array(start[0..<(Self.earlyWidth * 3)]) + Array(start[(Self.rowWidth * 3)..<kindCount])
    let model = MultiHeadModel(specs: [alone], inputWidth: Self.earlyWidth, parameters: kindStart)
    var gradients = [Float](repeating: 0, count: kindStart.count)
    _ = extracted.withUnsafeBufferPointer { x in
      gradients.withUnsafeMutableBufferPointer {
        model.lossAndGradient(features: x, targets: [manifest.targets[0]], rows: 0..<batch, gradients: $0)
      }
    }
    let expected = zip(kindStart, gradients).map { $0 - Float(learningRate) * $1 }
    let ours = trainer.heads.parameters
    let oursKind = Array(ours[0..<(Self.earlyWidth * 3)]) + Array(ours[(Self.rowWidth * 3)..<kindCount])
    let diff = zip(oursKind, expected).map { abs($0 - $1) }.max()!
    let moved = zip(expected, kindStart).map { abs($0 - $1) }.max()!
    print(
      "early-tap head after one step vs the head trained on extract's features: max |diff| = \(diff) (moved \(moved))")
    XCTAssertGreaterThan(moved, 1e-5)
    XCTAssertLessThanOrEqual(diff, 1e-6)
    // The frozen block did not move; the block head (loss weight 0) did not either.
    var trained = KerasWeights()
    trainer.block.write(into: &trained)
    XCTAssertEqual(trained.layers["block5_conv1"]?[.kernel]?.values, weights.layers["block5_conv1"]?[.kernel]?.values)
    XCTAssertEqual(Array(ours[kindCount...]), Array(start[kindCount...]))
  }
}
