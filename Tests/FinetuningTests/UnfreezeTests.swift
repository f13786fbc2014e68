// --unfreeze: which names resolve to which layers (and which are refused, and why), and that a
// partly unfrozen block trains exactly the chosen arrays: after one step they equal the same
// arrays of a fully unfrozen trainer (each array's update depends only on its own gradient,
// which does not change with what else trains) and every other array is untouched.
import Backbones
import Finetuning
import Heads
import XCTest

final class UnfreezeTests: XCTestCase {
  func testNamesResolveToTheLastBlocksLayers() throws {
    let all = Set(LastBlock.layerNames(.resnet50))
    XCTAssertEqual(try LastBlock.unfrozenLayers(.resnet50, names: ["last"]), all)
    XCTAssertEqual(try LastBlock.unfrozenLayers(.resnet50, names: ["conv5"]), all)
    XCTAssertEqual(
      try LastBlock.unfrozenLayers(.resnet50, names: ["conv5_block3"]),
      Set([1, 2, 3].flatMap { ["conv5_block3_\($0)_conv", "conv5_block3_\($0)_bn"] }))
    XCTAssertEqual(
      try LastBlock.unfrozenLayers(.resnet50, names: ["conv5_block1_0_conv", "conv5_block2_2"]),
      ["conv5_block1_0_conv", "conv5_block2_2_conv", "conv5_block2_2_bn"])
    XCTAssertEqual(try LastBlock.unfrozenLayers(.vgg16, names: ["block5"]), Set(LastBlock.layerNames(.vgg16)))
    XCTAssertEqual(try LastBlock.unfrozenLayers(.vgg19, names: ["block5_conv4"]), ["block5_conv4"])

    func problem(_ kind: BackboneKind, _ name: String) -> FinetuneError.UnfreezeProblem? {
      do {
        _ = try LastBlock.unfrozenLayers(kind, names: [name])
        return nil
      } catch {
        guard case .unfreeze(name, let problem) = error.reason else { return nil }
        return problem
      }
    }
    for (kind, name) in [
      (BackboneKind.resnet50, "conv4_block6_2_conv"), (.resnet50, "conv4"), (.resnet50, "conv1"),
      (.vgg16, "block4_conv3"), (.vgg19, "block1"),
    ] {
      guard case .beforeLastBlock? = problem(kind, name) else {
        return XCTFail("\(kind) \(name): not refused as before the last block")
      }
    }
    for (kind, name) in [
      (BackboneKind.resnet50, "conv5_block1_out"), (.resnet50, "conv5_block3_2_relu"), (.vgg16, "block5_pool"),
    ] {
      XCTAssertEqual(problem(kind, name), .noWeights, "\(kind) \(name)")
    }
    for (kind, name) in [(BackboneKind.resnet50, "conv6"), (.resnet50, "block5"), (.vgg16, "conv5"), (.vgg16, "")] {
      guard case .noLayer? = problem(kind, name) else {
        return XCTFail("\(kind) '\(name)': not refused as unknown")
      }
    }
    XCTAssertThrowsError(try LastBlock.unfrozenLayers(.resnet50, names: []))
  }

  func testPartlyUnfrozenTrainsExactlyTheChosenArrays() throws {
    for (kind, choices) in [
      (BackboneKind.resnet50, [["conv5_block3", "conv5_block2_3_bn"], ["conv5_block1_0_conv"]]),
      (.vgg16, [["block5_conv2"]]),
    ] {
      let start = startWeights(kind)
      let full = try oneStep(kind, from: start, trainable: nil)
      for names in choices {
        let chosen = try LastBlock.unfrozenLayers(kind, names: names)
        let partial = try oneStep(kind, from: start, trainable: chosen)
        for layer in LastBlock.layerNames(kind) {
          for (role, before) in start.layers[layer]! where role != .movingMean && role != .movingVariance {
            let after = partial.layers[layer]![role]!.values
            if chosen.contains(layer) {
              XCTAssertNotEqual(after, before.values, "\(kind) \(layer)/\(role) trains")
              XCTAssertEqual(after, full.layers[layer]![role]!.values, "\(kind) \(layer)/\(role) as when all train")
            } else {
              XCTAssertEqual(after, before.values, "\(kind) \(layer)/\(role) stays frozen")
            }
          }
        }
      }
    }
  }

  private func startWeights(_ kind: BackboneKind) -> KerasWeights {
    var weights = KerasWeights()
    let names = Set(LastBlock.layerNames(kind))
    for spec in parameterSpecs(for: kind) where names.contains(spec.layer) {
      weights.layers[spec.layer, default: [:]][spec.kind] = SyntheticWeights.array(spec, seed: 3)
    }
    return weights
  }

  /// The block's weights after one Adam step from `weights` with `trainable` unfrozen.
  private func oneStep(_ kind: BackboneKind, from weights: KerasWeights, trainable: Set<String>?) throws
    -> KerasWeights
  {
    let width = kind == .resnet50 ? 2048 : 512
    let specs = [HeadSpec(name: "kind", kind: .softmax, outputs: 3)]
    let heads = MultiHeadModel(
      specs: specs, inputWidth: width,
      parameters: StageGradientTests.values(MultiHeadModel.parameterCount(specs: specs, inputWidth: width), seed: 4))
    let trainer = try LastBlock.trainer(
      kind, weights: weights, heads: heads, optimizer: .adam(learningRate: 1e-3), trainable: trainable, height: 32,
      width: 32)
    let shape = try LastBlock.inputShape(kind, height: 32, width: 32)
    let input = StageGradientTests.values(3 * shape.height * shape.width * shape.channels, seed: 5).map { max(0, $0) }
    try input.withUnsafeBufferPointer {
      _ = try trainer.step(blockInput: $0, count: 3, targets: [.classes([0, 1, 2], count: 3)])
    }
    var after = weights
    trainer.write(into: &after)
    return after
  }
}
