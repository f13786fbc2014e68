// VGG16's block5 with GAP, L2 and two heads against central differences of its loss: a few
// single coordinates (the largest kernel gradient of each convolution, a bias, a head weight;
// float32 loss, so a few percent), and the derivative along the gradient scaled to each
// array's weights through every parameter at once (see StageGradientTests).
import Backbones
import Engine
import Finetuning
import Heads
import XCTest

final class VGGGradientTests: XCTestCase {
  func testBlock5Gradients() throws {
    var weights = KerasWeights()
    for spec in parameterSpecs(for: .vgg16) where spec.layer.hasPrefix("block5_") {
      weights.layers[spec.layer, default: [:]][spec.kind] = SyntheticWeights.array(spec, seed: 7)
    }
    let specs = [
      HeadSpec(name: "kind", kind: .softmax, outputs: 3, lossWeight: 1),
      HeadSpec(name: "score", kind: .tanh, outputs: 2, lossWeight: 0.5),
    ]
    let headParameters = StageGradientTests.values(
      MultiHeadModel.parameterCount(specs: specs, inputWidth: 512), seed: 3
    ).map { $0 * 1.5 }
    let (batch, side) = (2, 4)
    let trainer = try VGGLastBlockTrainer(
      block: try VGGLastBlock(kind: .vgg16, weights: weights),
      heads: MultiHeadModel(specs: specs, inputWidth: 512, parameters: headParameters),
      optimizer: .sgd(learningRate: 0.1), inputHeight: side, inputWidth: side)
    let input = StageGradientTests.values(batch * side * side * 512, seed: 5).map { max(0, $0 * 1.5 + 0.5) }
    let targets = [
      HeadTargets.classes([0, 2], count: 3),
      HeadTargets(values: [0.5, -0.3, 0.1, 0.8], rowWeights: [1, 1]),
    ]
    try input.withUnsafeBufferPointer {
      _ = try trainer.computeGradients(blockInput: $0, count: batch, targets: targets)
    }
    let initial = trainer.block
    let (kernelGradients, biasGradients) = (trainer.lastKernelGradients, trainer.lastBiasGradients)
    let headGradients = trainer.lastHeadGradients
    func loss() throws -> Double {
      try input.withUnsafeBufferPointer { try trainer.loss(blockInput: $0, count: batch, targets: targets).total }
    }
    func central(_ h: Float, _ set: (Float) -> Void, _ value: Float) throws -> Float {
      set(value + h)
      let up = try loss()
      set(value - h)
      let down = try loss()
      set(value)
      return Float((up - down) / (2 * Double(h)))
    }
    var worst: Float = 0
    for i in 0..<3 {
      let g = kernelGradients[i]
      let k = g.indices.max { abs(g[$0]) < abs(g[$1]) }!
      let numeric = try central(3e-4, { trainer.block.kernels[i][k] = $0 }, initial.kernels[i][k])
      worst = max(worst, abs(numeric - g[k]) / abs(g[k]))
    }
    let b = biasGradients[2].indices.max { abs(biasGradients[2][$0]) < abs(biasGradients[2][$1]) }!
    let numericBias = try central(1e-3, { trainer.block.biases[2][b] = $0 }, initial.biases[2][b])
    worst = max(worst, abs(numericBias - biasGradients[2][b]) / abs(biasGradients[2][b]))
    let hIndex = headGradients.indices.max { abs(headGradients[$0]) < abs(headGradients[$1]) }!
    let numericHead = try central(1e-3, { trainer.heads.parameters[hIndex] = $0 }, headParameters[hIndex])
    worst = max(worst, abs(numericHead - headGradients[hIndex]) / abs(headGradients[hIndex]))
    print("VGG16 block5 coordinate probes: worst relative error \(worst)")
    XCTAssertLessThan(worst, 5e-2)

    // Along the gradient, scaled to each array's weights, through every parameter at once.
    var directions: [[Float]] = []
    var analytic = 0.0
    for i in 0..<3 {
      for (w, g) in [(initial.kernels[i], kernelGradients[i]), (initial.biases[i], biasGradients[i])] {
        directions.append(StageGradientTests.direction(for: w, gradient: g))
        analytic += StageGradientTests.dot(g, directions.last!)
      }
    }
    directions.append(StageGradientTests.direction(for: headParameters, gradient: headGradients))
    analytic += StageGradientTests.dot(headGradients, directions.last!)
    func move(_ t: Float) {
      var block = initial
      for i in 0..<3 {
        for (j, d) in [directions[2 * i], directions[2 * i + 1]].enumerated() {
          if j == 0 {
            for e in d.indices { block.kernels[i][e] += t * d[e] }
          } else {
            for e in d.indices { block.biases[i][e] += t * d[e] }
          }
        }
      }
      trainer.block = block
      var parameters = headParameters
      for e in parameters.indices { parameters[e] += t * directions[6][e] }
      trainer.heads.parameters = parameters
    }
    let h = Float(5e-3 / abs(analytic))
    move(h)
    let up = try loss()
    move(-h)
    let down = try loss()
    move(0)
    let numeric = (up - down) / (2 * Double(h))
    let error = abs(numeric - analytic) / abs(analytic)
    print("VGG16 block5 directional derivative: analytic \(analytic), numeric \(numeric), relative error \(error)")
    XCTAssertLessThan(error, 5e-3)
  }
}
