// The whole trained part — conv5_block1..3, GAP, L2 normalisation, a softmax and a tanh head —
// against central finite differences of its loss, with batch norm frozen and in training mode.
// Each probe moves one parameter: per unit of every block the kernel element with the largest
// gradient, per block a bias, gamma and beta, and two head weights. Small input (conv5 at 1x1
// or 2x2), synthetic conv5 weights, inputs of ReLU scale, so the network is well conditioned.
// The loss is float32 all the way (~1e-7 relative noise), so one coordinate's central
// difference is good to a few percent at best (noise / 2h against the h^2 truncation); the
// bar is 5e-2, and a wrong gradient term is off by far more.
import Backbones
import Engine
import Finetuning
import Heads
import XCTest

final class StageGradientTests: XCTestCase {
  /// conv5's arrays from the synthetic generator (the rest of ResNet50 is not needed).
  static let weights: KerasWeights = {
    var weights = KerasWeights()
    for spec in parameterSpecs(for: .resnet50) where spec.layer.hasPrefix("conv5_") {
      weights.layers[spec.layer, default: [:]][spec.kind] = SyntheticWeights.array(spec, seed: 7)
    }
    return weights
  }()

  /// Uniform in [-1, 1) from a fixed linear congruential sequence.
  static func values(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed
    return (0..<count).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Float(state >> 40) / Float(1 << 23) - 1
    }
  }

  func check(batchNorm: FinetuneBatchNorm, batch: Int, side: Int) throws {
    let specs = [
      HeadSpec(name: "kind", kind: .softmax, outputs: 3, lossWeight: 1),
      HeadSpec(name: "score", kind: .tanh, outputs: 2, lossWeight: 0.5),
    ]
    let headParameters = Self.values(MultiHeadModel.parameterCount(specs: specs, inputWidth: 2048), seed: 3).map {
      $0 * 1.5
    }
    let heads = MultiHeadModel(specs: specs, inputWidth: 2048, parameters: headParameters)
    let trainer = try ResNet50LastStageTrainer(
      stage: try ResNet50LastStage(weights: Self.weights), heads: heads, optimizer: .sgd(learningRate: 0.1),
      batchNorm: batchNorm, inputHeight: side, inputWidth: side)
    let input = Self.values(batch * side * side * 1024, seed: 5).map { max(0, $0 * 1.5 + 0.5) }
    let labels: [Int32] = (0..<batch).map { Int32($0 % 3) }
    let targets = [
      HeadTargets.classes(labels, count: 3),
      HeadTargets(
        values: Self.values(batch * 2, seed: 9).map { $0 * 0.9 }, rowWeights: [Float](repeating: 1, count: batch)),
    ]
    let initial = trainer.stage
    try input.withUnsafeBufferPointer {
      _ = try trainer.computeGradients(blockInput: $0, count: batch, targets: targets)
    }
    // computeGradients moved the moving statistics in training mode; the loss does not read them.
    trainer.stage = initial
    let gradients = trainer.lastGradients
    let headGradients = trainer.lastHeadGradients

    func loss() throws -> Double {
      try input.withUnsafeBufferPointer { try trainer.loss(blockInput: $0, count: batch, targets: targets).total }
    }
    typealias Probe = (name: String, analytic: Float, h: Float, set: (Float) -> Void, value: Float)
    var probes: [Probe] = []
    let unitNames = ["1", "2", "3", "0"]
    let units: [WritableKeyPath<ResidualBlockParameters, ConvBatchNormParameters>] = [
      \.conv1, \.conv2, \.conv3, \.shortcut!,
    ]
    let gradientUnits: [KeyPath<ResidualBlockGradients, ConvBatchNormGradients>] = [
      \.conv1, \.conv2, \.conv3, \.shortcut!,
    ]
    for b in 0..<3 {
      for u in 0..<(b == 0 ? 4 : 3) {
        let g = gradients[b][keyPath: gradientUnits[u]]
        let unit = units[u]
        let name = "conv5_block\(b + 1)_\(unitNames[u])"
        let k = g.kernel.indices.max { abs(g.kernel[$0]) < abs(g.kernel[$1]) }!
        probes.append(
          (
            "\(name)_conv/kernel[\(k)]", g.kernel[k], 1e-4, { trainer.stage.blocks[b][keyPath: unit].kernel[k] = $0 },
            initial.blocks[b][keyPath: unit].kernel[k]
          ))
        // One unit per block also probes its bias, gamma and beta.
        guard u == b else { continue }
        let c = g.gamma.indices.max { abs(g.gamma[$0]) < abs(g.gamma[$1]) }!
        // Before batch norm with batch statistics a bias has no effect at all (the batch mean
        // takes it away again): its finite difference is the loss's float32 rounding over 2h,
        // so a larger step measures that zero less noisily (no truncation error either).
        var biasStep: Float = 1e-3
        if case .training = batchNorm { biasStep = 1e-2 }
        probes.append(
          (
            "\(name)_conv/bias[\(c)]", g.bias[c], biasStep, { trainer.stage.blocks[b][keyPath: unit].bias[c] = $0 },
            initial.blocks[b][keyPath: unit].bias[c]
          ))
        probes.append(
          (
            "\(name)_bn/gamma[\(c)]", g.gamma[c], 1e-3,
            { trainer.stage.blocks[b][keyPath: unit].batchNorm.gamma[c] = $0 },
            initial.blocks[b][keyPath: unit].batchNorm.gamma[c]
          ))
        probes.append(
          (
            "\(name)_bn/beta[\(c)]", g.beta[c], 1e-3,
            { trainer.stage.blocks[b][keyPath: unit].batchNorm.beta[c] = $0 },
            initial.blocks[b][keyPath: unit].batchNorm.beta[c]
          ))
      }
    }
    for i in [headGradients.indices.max { abs(headGradients[$0]) < abs(headGradients[$1]) }!, 2048 * 3 + 7] {
      probes.append(
        ("heads[\(i)]", headGradients[i], 1e-3, { trainer.heads.parameters[i] = $0 }, headParameters[i]))
    }
    var worst = (error: Float(0), name: "")
    var largest: Float = 0
    for probe in probes { largest = max(largest, abs(probe.analytic)) }
    for probe in probes {
      probe.set(probe.value + probe.h)
      let up = try loss()
      probe.set(probe.value - probe.h)
      let down = try loss()
      probe.set(probe.value)
      let numeric = Float((up - down) / (2 * Double(probe.h)))
      // Relative to the probe's own gradient, with a floor at 1% of the largest probed one
      // (a bias before training-mode batch norm has a zero gradient).
      let error = abs(numeric - probe.analytic) / max(abs(probe.analytic), 1e-2 * largest)
      if error > worst.error { worst = (error, "\(probe.name): analytic \(probe.analytic), numeric \(numeric)") }
    }
    print(
      "stage gradient check \(batchNorm), \(probes.count) probes: worst relative error \(worst.error) (\(worst.name))")
    XCTAssertLessThan(worst.error, 5e-2, worst.name)
    try checkDirection(
      trainer: trainer, initial: initial, headParameters: headParameters, gradients: gradients,
      headGradients: headGradients, loss: loss)
  }

  /// Every gradient at once: the derivative along one direction d through all ~15M stage
  /// parameters and the heads, sum g.d against (L(w + h d) - L(w - h d)) / 2h. Per array d is
  /// the gradient scaled to the weights' norm, so every array adds |g| |w| (a random direction
  /// cancels down to the size of the float32 noise and of the ReLU kinks it crosses).
  func checkDirection(
    trainer: ResNet50LastStageTrainer, initial: ResNet50LastStage, headParameters: [Float],
    gradients: [ResidualBlockGradients], headGradients: [Float], loss: () throws -> Double
  ) throws {
    let units: [WritableKeyPath<ResidualBlockParameters, ConvBatchNormParameters>] = [
      \.conv1, \.conv2, \.conv3, \.shortcut!,
    ]
    let gradientUnits: [KeyPath<ResidualBlockGradients, ConvBatchNormGradients>] = [
      \.conv1, \.conv2, \.conv3, \.shortcut!,
    ]
    var direction: [[Float]] = []
    var analytic = 0.0
    for b in 0..<3 {
      for u in 0..<(b == 0 ? 4 : 3) {
        for (role, gradientRole) in zip(Self.roles, Self.gradientRoles) {
          let g = gradients[b][keyPath: gradientUnits[u]][keyPath: gradientRole]
          direction.append(Self.direction(for: initial.blocks[b][keyPath: units[u]][keyPath: role], gradient: g))
          analytic += Self.dot(g, direction.last!)
        }
      }
    }
    direction.append(Self.direction(for: headParameters, gradient: headGradients))
    analytic += Self.dot(headGradients, direction.last!)
    func move(_ t: Float) {
      var stage = initial
      var index = 0
      for b in 0..<3 {
        for u in 0..<(b == 0 ? 4 : 3) {
          for role in Self.roles {
            stage.blocks[b][keyPath: units[u]][keyPath: role].withUnsafeMutableBufferPointer { w in
              direction[index].withUnsafeBufferPointer { d in
                for i in 0..<w.count { w[i] += t * d[i] }
              }
            }
            index += 1
          }
        }
      }
      trainer.stage = stage
      var parameters = headParameters
      for i in parameters.indices { parameters[i] += t * direction[index][i] }
      trainer.heads.parameters = parameters
    }
    // h moves the loss by ~0.01: far above its float32 noise, small enough to stay linear.
    let h = Float(5e-3 / abs(analytic))
    move(h)
    let up = try loss()
    move(-h)
    let down = try loss()
    move(0)
    let numeric = (up - down) / (2 * Double(h))
    let error = abs(numeric - analytic) / abs(analytic)
    print(
      "stage directional derivative \(trainer.batchNorm): analytic \(analytic), numeric \(numeric), relative error \(error)"
    )
    XCTAssertLessThan(error, 5e-3)
  }

  static var roles: [WritableKeyPath<ConvBatchNormParameters, [Float]>] {
    [
      \.kernel, \.bias, \.batchNorm.gamma, \.batchNorm.beta,
    ]
  }
  static var gradientRoles: [KeyPath<ConvBatchNormGradients, [Float]>] { [\.kernel, \.bias, \.gamma, \.beta] }

  /// g * |w| / |g|: the gradient at the scale of the weights.
  static func direction(for w: [Float], gradient g: [Float]) -> [Float] {
    let scale = Float((dot(w, w) / max(dot(g, g), 1e-30)).squareRoot())
    var d = g
    d.withUnsafeMutableBufferPointer { d in
      for i in 0..<d.count { d[i] *= scale }
    }
    return d
  }

  static func dot(_ a: [Float], _ b: [Float]) -> Double {
    a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        var sum = 0.0
        for i in 0..<a.count { sum += Double(a[i]) * Double(b[i]) }
        return sum
      }
    }
  }

  func testFrozenBatchNorm() throws { try check(batchNorm: .frozenStatistics, batch: 2, side: 2) }

  func testTrainingBatchNorm() throws { try check(batchNorm: .training(momentum: 0.99), batch: 2, side: 4) }
}
