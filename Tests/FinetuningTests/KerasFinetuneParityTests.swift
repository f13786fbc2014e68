// Keras parity of fine-tuning: make_keras_finetune_fixtures.py trained ResNet50's conv5 stage
// and two heads (softmax, tanh) with real Keras 3.15.1 (GradientTape, apply_gradients) for a
// few steps of SGD with momentum (from images, through the frozen prefix) and of Adam, batch
// norm frozen, and of SGD with conv5's batch norms in training mode (these two from a stored
// conv5 input; the script says why), from synthetic weights on one fixed batch. The same steps
// here must give the same losses and the same weight updates (trained minus initial, compared
// relative to the largest update of each array: the bar is 1e-4).
import Backbones
import Engine
import Finetuning
import Foundation
import Heads
import XCTest

/// The synthetic weights and our frozen prefix's output for the fixture images, made once for
/// both tests (binding and folding ResNet50's weights takes seconds in a debug build).
private let shared: Result<(weights: KerasWeights, prefixOutput: [Float]), Error> = Result {
  let manifest = try FinetuneManifest.load()
  let weights = SyntheticWeights.make(.resnet50, seed: 0)
  let backbone = try Backbone(kind: .resnet50, weights: weights, winograd: false)
  let prefixOutput = try FinetuneManifest.floats("input.f32").withUnsafeBufferPointer {
    try ResNet50LastStage.blockInput(
      backbone, images: $0, count: manifest.batch, height: manifest.size, width: manifest.size)
  }
  return (weights, prefixOutput)
}

final class KerasFinetuneParityTests: XCTestCase {
  /// The frozen prefix (the existing forward up to conv4_block6_out) gives Keras' stage input.
  func testPrefixMatchesKeras() throws {
    let manifest = try FinetuneManifest.load()
    let ours = try shared.get().prefixOutput
    let keras = try FinetuneManifest.floats("block_input.f32")
    XCTAssertEqual(ours.count, keras.count)
    let error = relativeToScale(ours, keras)
    print("conv4_block6_out: max |ours - Keras| / max |Keras| = \(error)")
    XCTAssertLessThan(error, 1e-5)
    let size = try ResNet50LastStage.blockInputSize(height: manifest.size, width: manifest.size)
    XCTAssertEqual(size.height * size.width * 1024 * manifest.batch, keras.count)
  }

  func testTrainingRunsMatchKeras() throws {
    let manifest = try FinetuneManifest.load()
    let (initialWeights, prefixOutput) = try shared.get()
    let initialHeads = try FinetuneManifest.floats("heads_initial.f32")
    let size = try ResNet50LastStage.blockInputSize(height: manifest.size, width: manifest.size)
    // `input.f32` runs go through our frozen prefix: the whole chain, as `finetune` runs it.
    for run in manifest.runs {
      let blockInput = run.input == "input.f32" ? prefixOutput : try FinetuneManifest.floats(run.input)
      let optimizer: OptimizerKind
      let o = run.optimizer
      if o["name"]?.text == "adam" {
        optimizer = .adam(learningRate: o["learning_rate"]!.number, epsilon: o["epsilon"]!.number)
      } else {
        optimizer = .sgd(learningRate: o["learning_rate"]!.number, momentum: o["momentum"]!.number)
      }
      let heads = MultiHeadModel(specs: FinetuneManifest.specs, inputWidth: 2048, parameters: initialHeads)
      let trainer = try ResNet50LastStageTrainer(
        stage: try ResNet50LastStage(weights: initialWeights), heads: heads, optimizer: optimizer,
        batchNorm: run.training ? .training(momentum: 0.99) : .frozenStatistics, inputHeight: size.height,
        inputWidth: size.width)
      var lossError = 0.0
      for (step, keras) in run.losses.enumerated() {
        let losses = try blockInput.withUnsafeBufferPointer {
          try trainer.step(blockInput: $0, count: manifest.batch, targets: manifest.targets)
        }
        for (ours, theirs) in zip([losses.total] + losses.heads, [keras.total, keras.kind, keras.score]) {
          lossError = max(lossError, abs(ours - theirs) / abs(theirs))
        }
        if step == 0 { print("\(run.name) step 1 losses: ours \(losses), Keras \(keras)") }
      }
      // The heads: updates relative to the largest update.
      let kerasHeads = try FinetuneManifest.floats("\(run.name)_heads.f32")
      let headsUlps = initialHeads.map { Double($0.ulp) }.max()! * Double(run.steps)
      let headsScale = zip(kerasHeads, initialHeads).map { abs(Double($0) - Double($1)) }.max()!
      let headsRaw = zip(trainer.heads.parameters, kerasHeads).map { abs(Double($0) - Double($1)) }.max()!
      let headsError = max(0, headsRaw - headsUlps) / headsScale
      // The stage: sampled updates per array, and each array's whole sum of |update|.
      var trained = KerasWeights()
      trainer.stage.write(into: &trained)
      let deltas = try FinetuneManifest.floats("\(run.name)_deltas.f32")
      var offset = 0
      var worst = (error: 0.0, name: "")
      var worstRaw = 0.0
      var worstSum = (error: 0.0, name: "")
      let runScale = deltas.map { abs(Double($0)) }.max()!
      for (a, array) in manifest.arrays.enumerated() {
        let role = WeightKind(rawValue: array.role)!
        let ours = trained.layers[array.layer]![role]!
        let initial = initialWeights.layers[array.layer]![role]!
        XCTAssertEqual(ours.shape, array.shape)
        let keras = Array(deltas[offset..<(offset + array.indices.count)])
        offset += array.indices.count
        // Differences of float32 values are exact in float64.
        let update = array.indices.map { Float(Double(ours.values[$0]) - Double(initial.values[$0])) }
        let scale = keras.map { abs(Double($0)) }.max()!
        let ourScale = update.map { abs(Double($0)) }.max()!
        let name = "\(run.name) \(array.layer)/\(array.role)"
        if run.training && role == .bias {
          // A bias before a batch norm that uses batch statistics has a zero gradient: the
          // mean subtracts it. Both sides move it by rounding noise only.
          XCTAssertLessThan(max(scale, ourScale), 1e-4 * runScale, name)
          continue
        }
        if scale == 0 {
          XCTAssertEqual(ourScale, 0, "\(name) moved")
          continue
        }
        // A weight is rounded to float32 after every step, so an update cannot be matched
        // more finely than a few ulps of the weight itself.
        let ulps = array.indices.map { Double(initial.values[$0].ulp) }.max()! * Double(run.steps)
        let error = zip(update, keras).map { abs(Double($0) - Double($1)) }.max()!
        worstRaw = max(worstRaw, error / scale)
        let relative = max(0, error - ulps) / scale
        if relative > worst.error { worst = (relative, "\(array.layer)/\(array.role)") }
        let sum = absoluteDifferenceSum(ours.values, initial.values)
        let sumError = abs(sum - run.abs_delta_sums[a]) / run.abs_delta_sums[a]
        if sumError > worstSum.error { worstSum = (sumError, "\(array.layer)/\(array.role)") }
      }
      XCTAssertEqual(offset, deltas.count)
      print(
        "\(run.name): losses rel \(lossError), heads update rel \(headsError) beyond rounding "
          + "(\(headsRaw / headsScale) with it), conv5 sampled update rel "
          + "\(worst.error) beyond the weights' rounding (\(worst.name); \(worstRaw) with it), "
          + "whole-array sum |update| rel \(worstSum.error) (\(worstSum.name))")
      let bar = 1e-4
      XCTAssertLessThan(lossError, 1e-5, run.name)
      XCTAssertLessThan(headsError, bar, run.name)
      XCTAssertLessThan(worst.error, bar, "\(run.name) \(worst.name)")
      XCTAssertLessThan(worstSum.error, 1e-4, "\(run.name) \(worstSum.name)")
    }
  }
}
