// Keras parity of fine-tuning VGG16's and VGG19's block5 (make_keras_finetune_fixtures.py,
// `vgg`): SGD with momentum from the images through the frozen prefix (VGG16, VGG19) and Adam
// from a stored block input (VGG16), the same heads on 512 features. Losses, head updates and
// block5 updates (relative to each array's largest update) within the 1e-4.
import Backbones
import Engine
import Finetuning
import Foundation
import Heads
import XCTest

private struct VGGManifest: Decodable {
  struct Run: Decodable {
    var name: String
    var backbone: String
    var optimizer: [String: FinetuneManifest.OptimizerValue]
    var steps: Int
    var input: String
    var losses: [FinetuneManifest.Losses]
    var abs_delta_sums: [Double]
  }
  var batch: Int
  var size: Int
  var runs: [Run]
  var arrays: [String: [FinetuneManifest.StoredArray]]
}

final class KerasVGGFinetuneParityTests: XCTestCase {
  func testTrainingRunsMatchKeras() throws {
    let manifest = try JSONDecoder().decode(
      VGGManifest.self,
      from: Data(contentsOf: FinetuneManifest.directory.appendingPathComponent("vgg_manifest.json")))
    let targets = try FinetuneManifest.load().targets
    let images = try FinetuneManifest.floats("input.f32")
    let initialHeads = try FinetuneManifest.floats("vgg_heads_initial.f32")
    let specs = FinetuneManifest.specs
    var cache: [BackboneKind: (weights: KerasWeights, prefix: [Float])] = [:]
    for run in manifest.runs {
      let kind = BackboneKind(rawValue: run.backbone)!
      if cache[kind] == nil {
        // Synthetic weights and the prefix output once per backbone (seconds in a debug build).
        let weights = SyntheticWeights.make(kind, seed: 0)
        let backbone = try Backbone(kind: kind, weights: weights, winograd: false)
        let prefix = try images.withUnsafeBufferPointer {
          try VGGLastBlock.blockInput(
            backbone, images: $0, count: manifest.batch, height: manifest.size, width: manifest.size)
        }
        cache[kind] = (weights, prefix)
      }
      let weights = cache[kind]!.weights
      let size = try VGGLastBlock.blockInputSize(kind, height: manifest.size, width: manifest.size)
      let blockInput = run.input == "input.f32" ? cache[kind]!.prefix : try FinetuneManifest.floats(run.input)
      let o = run.optimizer
      let optimizer: OptimizerKind =
        o["name"]?.text == "adam"
        ? .adam(learningRate: o["learning_rate"]!.number, epsilon: o["epsilon"]!.number)
        : .sgd(learningRate: o["learning_rate"]!.number, momentum: o["momentum"]!.number)
      let trainer = try VGGLastBlockTrainer(
        block: try VGGLastBlock(kind: kind, weights: weights),
        heads: MultiHeadModel(specs: specs, inputWidth: 512, parameters: initialHeads), optimizer: optimizer,
        inputHeight: size.height, inputWidth: size.width)
      var lossError = 0.0
      for keras in run.losses {
        let losses = try blockInput.withUnsafeBufferPointer {
          try trainer.step(blockInput: $0, count: manifest.batch, targets: targets)
        }
        for (ours, theirs) in zip([losses.total] + losses.heads, [keras.total, keras.kind, keras.score]) {
          lossError = max(lossError, abs(ours - theirs) / abs(theirs))
        }
      }
      let kerasHeads = try FinetuneManifest.floats("\(run.name)_heads.f32")
      let headsUlps = initialHeads.map { Double($0.ulp) }.max()! * Double(run.steps)
      let headsScale = zip(kerasHeads, initialHeads).map { abs(Double($0) - Double($1)) }.max()!
      let headsRaw = zip(trainer.heads.parameters, kerasHeads).map { abs(Double($0) - Double($1)) }.max()!
      let headsError = max(0, headsRaw - headsUlps) / headsScale
      var trained = KerasWeights()
      trainer.block.write(into: &trained)
      let deltas = try FinetuneManifest.floats("\(run.name)_deltas.f32")
      // Adam divides a weight's gradient by |gradient| + epsilon, so where |gradient| is under
      // epsilon an update moves by up to lr / epsilon times the gradient's own rounding, per step.
      // Both sides round their gradients differently (Winograd F(2x2, 3x3) here, oneDNN's direct
      // convolution in Keras), by up to about 1e-5 on values of order one (WinogradTrainingTests:
      // 7.6e-6 against the naive convolution on AVX2). So each sampled update of an Adam run may
      // differ by up to steps x lr x 1e-5 / epsilon beyond the weights' rounding: 2e-6 for this
      // fixture, against updates of up to steps x lr = 2e-4. A wrong gradient moves updates by
      // their own size. SGD's update is lr times the gradient: no such allowance.
      let adamAllowance =
        o["name"]?.text == "adam"
        ? Double(run.steps) * o["learning_rate"]!.number * 1e-5 / o["epsilon"]!.number : 0
      var offset = 0
      var worst = 0.0
      var worstRaw = 0.0
      var worstSum = 0.0
      let arrays = manifest.arrays[run.backbone]!
      XCTAssertEqual(arrays.count, try VGGLastBlock.trainableVariables(kind).count)
      for (a, array) in arrays.enumerated() {
        let role = WeightKind(rawValue: array.role)!
        let ours = trained.layers[array.layer]![role]!
        let initial = weights.layers[array.layer]![role]!
        XCTAssertEqual(ours.shape, array.shape)
        let keras = Array(deltas[offset..<(offset + array.indices.count)])
        offset += array.indices.count
        let update = array.indices.map { Float(Double(ours.values[$0]) - Double(initial.values[$0])) }
        let scale = keras.map { abs(Double($0)) }.max()!
        let ulps = array.indices.map { Double(initial.values[$0].ulp) }.max()! * Double(run.steps)
        let error = zip(update, keras).map { abs(Double($0) - Double($1)) }.max()!
        worstRaw = max(worstRaw, error / scale)
        worst = max(worst, max(0, error - ulps - adamAllowance) / scale)
        let sum = absoluteDifferenceSum(ours.values, initial.values)
        worstSum = max(worstSum, abs(sum - run.abs_delta_sums[a]) / run.abs_delta_sums[a])
      }
      XCTAssertEqual(offset, deltas.count)
      print(
        "\(run.name): losses rel \(lossError), heads update rel \(headsError) beyond rounding "
          + "(\(headsRaw / headsScale) with it), block5 sampled update rel \(worst) beyond rounding "
          + "(\(worstRaw) with it), whole-array sum |update| rel \(worstSum)")
      XCTAssertLessThan(lossError, 1e-5, run.name)
      XCTAssertLessThan(headsError, 1e-4, run.name)
      XCTAssertLessThan(worst, 1e-4, run.name)
      XCTAssertLessThan(worstSum, 1e-4, run.name)
    }
  }
}
