import Foundation
import XCTest

@testable import Engine

/// The whole trainable top of a ResNet50 in miniature: one bottleneck block (conv5_block1 with
/// its convolution shortcut and stride 2, or conv5_block2 with an identity shortcut), then
/// GAP, L2 normalisation, a dense layer and softmax cross-entropy. The analytic gradient of
/// every parameter and of the block input against central differences of the loss, with batch
/// norm frozen and in training mode.
final class ResidualBlockBackwardTests: XCTestCase {
  let classes = 3

  func unit(_ kernelCount: Int, _ c: Int, _ rng: inout TestRandom) -> ConvBatchNormParameters {
    let bn = BatchNormParameters(
      gamma: rng.array(c).map { 1 + 0.3 * $0 }, beta: rng.array(c).map { 0.2 * $0 },
      movingMean: rng.array(c).map { 0.2 * $0 }, movingVariance: rng.array(c).map { 1 + 0.4 * $0 },
      epsilon: 1.001e-5)
    return ConvBatchNormParameters(
      kernel: rng.array(kernelCount).map { 0.5 * $0 }, bias: rng.array(c).map { 0.1 * $0 }, batchNorm: bn)
  }

  func parameters(_ s: ResidualBlockShape, _ rng: inout TestRandom) -> ResidualBlockParameters {
    ResidualBlockParameters(
      conv1: unit(s.conv1.kernelCount, s.filters, &rng), conv2: unit(s.conv2.kernelCount, s.filters, &rng),
      conv3: unit(s.conv3.kernelCount, s.outChannels, &rng),
      shortcut: s.convolutionShortcut ? unit(s.shortcut.kernelCount, s.outChannels, &rng) : nil)
  }

  /// Kernels, biases, gammas and betas of every unit, in one vector (and back).
  func flatten(_ p: ResidualBlockParameters) -> [Float] {
    [p.conv1, p.conv2, p.conv3, p.shortcut].compactMap { $0 }.flatMap {
      $0.kernel + $0.bias + $0.batchNorm.gamma + $0.batchNorm.beta
    }
  }

  func flatten(_ g: ResidualBlockGradients) -> [Float] {
    [g.conv1, g.conv2, g.conv3, g.shortcut].compactMap { $0 }.flatMap {
      $0.kernel + $0.bias + $0.gamma + $0.beta
    }
  }

  func unflatten(_ v: [Float], into p: ResidualBlockParameters) -> ResidualBlockParameters {
    var p = p
    var offset = 0
    func take(_ n: Int) -> [Float] {
      defer { offset += n }
      return Array(v[offset..<(offset + n)])
    }
    func fill(_ u: inout ConvBatchNormParameters) {
      u.kernel = take(u.kernel.count)
      u.bias = take(u.bias.count)
      u.batchNorm.gamma = take(u.batchNorm.channels)
      u.batchNorm.beta = take(u.batchNorm.channels)
    }
    fill(&p.conv1)
    fill(&p.conv2)
    fill(&p.conv3)
    if p.shortcut != nil { fill(&p.shortcut!) }
    return p
  }

  /// The model: block -> GAP -> L2 -> dense -> softmax cross-entropy (float64 from the logits).
  struct Model {
    var shape: ResidualBlockShape
    var block: ResidualBlockParameters
    var weight: [Float]  // (4F, classes)
    var bias: [Float]  // (classes)
    var labels: [Float]  // one-hot (N, classes)
  }

  /// Forward (and with `backward`, the analytic gradients: block input, block parameters,
  /// dense weight and bias). Returns the loss.
  func run(_ m: Model, input: [Float], mode: BatchNormMode, backward: Bool = false) -> (
    loss: Double, relus: [Bool], dx: [Float], dBlock: [Float], dDense: [Float]
  ) {
    let s = m.shape
    let (n, c, k) = (s.batch, s.outChannels, classes)
    let (oh, ow) = (s.conv3.outputHeight, s.conv3.outputWidth)
    var block = m.block
    let acts = ResidualBlockActivations(shape: s)
    let x = TestBuffer(input)
    residualBlockForward(acts, input: x.r, parameters: &block, mode: mode)
    let pooled = TestBuffer(repeating: 0, count: n * c)
    acts.withOutput { globalAveragePool(pooled.m, $0, batch: n, height: oh, width: ow, channels: c) }
    let features = TestBuffer(pooled.array)
    l2NormalizeRows(features.m, rows: n, width: c)
    let (w, b) = (TestBuffer(m.weight), TestBuffer(m.bias))
    let logits = TestBuffer(repeating: 0, count: n * k)
    denseForward(logits.m, features.r, weight: w.r, bias: b.r, batch: n, inFeatures: c, outFeatures: k)
    var loss = 0.0
    for r in 0..<n {
      let z = (0..<k).map { Double(logits.array[r * k + $0]) }
      let top = z.max()!
      let lse = top + Foundation.log(z.map { Foundation.exp($0 - top) }.reduce(0, +))
      for j in 0..<k { loss += Double(m.labels[r * k + j]) * (lse - z[j]) }
    }
    loss /= Double(n)
    // Which ReLUs pass: a finite difference whose two probes differ here straddles a kink.
    let relus = (Array(acts.a1) + Array(acts.a2) + acts.outputArray).map { $0 > 0 }
    guard backward else {
      keep(x, w, b)
      return (loss, relus, [], [], [])
    }
    let probabilities = TestBuffer(repeating: 0, count: n * k)
    softmaxForward(probabilities.m, logits.r, rows: n, width: k)
    let (labels, dLogits) = (TestBuffer(m.labels), TestBuffer(repeating: 0, count: n * k))
    categoricalCrossEntropyBackward(
      dLogits.m, probabilities: probabilities.r, labels: labels.r, rowWeights: nil, lossWeight: 1, batch: n,
      classes: k)
    let (dW, dB) = (TestBuffer(repeating: 0, count: c * k), TestBuffer(repeating: 0, count: k))
    let dFeatures = TestBuffer(repeating: 0, count: n * c)
    denseBackward(
      dx: dFeatures.m, dWeight: dW.m, dBias: dB.m, dy: dLogits.r, x: features.r, weight: w.r, batch: n,
      inFeatures: c, outFeatures: k)
    let dPooled = TestBuffer(repeating: 0, count: n * c)
    l2NormalizeRowsBackward(dPooled.m, dFeatures.r, x: pooled.r, rows: n, width: c)
    let dOut = TestBuffer(repeating: 0, count: s.outputCount)
    globalAveragePoolBackward(dOut.m, dPooled.r, batch: n, height: oh, width: ow, channels: c)
    var grads = ResidualBlockGradients(zerosFor: m.block)
    let dx = TestBuffer(repeating: 0, count: s.inputCount)
    residualBlockBackward(
      dInput: dx.m, gradients: &grads, dOutput: dOut.r, input: x.r, parameters: m.block, activations: acts)
    keep(x, w, b, labels)
    return (loss, relus, dx.array, flatten(grads), dW.array + dB.array)
  }

  /// max |a - b| / max |b| over the coordinates not skipped: the error against the
  /// gradient's own scale.
  func scaledError(_ a: [Float], _ b: [Float], skipping: [Bool]) -> Float {
    let kept = a.indices.filter { !skipping[$0] }
    return maxAbsDiff(kept.map { a[$0] }, kept.map { b[$0] }) / max(b.map(abs).max() ?? 0, 1e-30)
  }

  /// Central differences of the loss, flagging coordinates whose two probes switch some ReLU
  /// (the loss is not differentiable across that step, so the quotient says nothing).
  func differences(
    _ x: [Float], h: Float,
    _ f: ([Float]) -> (loss: Double, relus: [Bool], dx: [Float], dBlock: [Float], dDense: [Float])
  ) -> (gradient: [Float], kinked: [Bool]) {
    var probe = x
    var gradient = [Float](repeating: 0, count: x.count)
    var kinked = [Bool](repeating: false, count: x.count)
    for i in 0..<x.count {
      probe[i] = x[i] + h
      let up = f(probe)
      probe[i] = x[i] - h
      let down = f(probe)
      probe[i] = x[i]
      gradient[i] = Float((up.loss - down.loss) / Double((x[i] + h) - (x[i] - h)))
      kinked[i] = up.relus != down.relus
    }
    return (gradient, kinked)
  }

  func check(_ s: ResidualBlockShape, seed: UInt32, file: StaticString = #filePath, line: UInt = #line) {
    var rng = TestRandom(seed: seed)
    let input = rng.array(s.inputCount)
    var labels = [Float](repeating: 0, count: s.batch * classes)
    for r in 0..<s.batch { labels[r * classes + r % classes] = 1 }
    let model = Model(
      shape: s, block: parameters(s, &rng), weight: rng.array(s.outChannels * classes).map { 3 * $0 },
      bias: rng.array(classes), labels: labels)
    for mode in [BatchNormMode.frozen, .training(momentum: 0.99)] {
      let got = run(model, input: input, mode: mode, backward: true)
      // The step trades float32 noise in the loss (~1e-7 of it, divided by 2h) against probes
      // that straddle a ReLU kink (skipped below): at 1e-3 the noise is ~2e-3 of the smallest
      // gradient scale here, at 1e-2 a tenth of the coordinates straddle kinks.
      let h: Float = 3e-3
      let numX = differences(input, h: h) { run(model, input: $0, mode: mode) }
      let numBlock = differences(flatten(model.block), h: h) {
        var m = model
        m.block = unflatten($0, into: model.block)
        return run(m, input: input, mode: mode)
      }
      let numDense = differences(model.weight + model.bias, h: h) {
        var m = model
        m.weight = Array($0[0..<model.weight.count])
        m.bias = Array($0[model.weight.count...])
        return run(m, input: input, mode: mode)
      }
      let ex = scaledError(got.dx, numX.gradient, skipping: numX.kinked)
      let eb = scaledError(got.dBlock, numBlock.gradient, skipping: numBlock.kinked)
      let ed = scaledError(got.dDense, numDense.gradient, skipping: numDense.kinked)
      let kinked = [numX, numBlock, numDense].map { $0.kinked.filter { $0 }.count }.reduce(0, +)
      let total = numX.kinked.count + numBlock.kinked.count + numDense.kinked.count
      let kind = s.convolutionShortcut ? "conv" : "identity"
      print(
        "residual block \(kind) shortcut, stride \(s.stride), BN \(mode):",
        "loss \(got.loss), max scaled error dx \(ex), block parameters \(eb), dense \(ed);",
        "\(kinked) of \(total) coordinates skipped (their probes straddle a ReLU kink)")
      XCTAssertLessThan(max(ex, eb, ed), 2e-3, "\(mode)", file: file, line: line)
      XCTAssertLessThan(kinked * 10, total, "too many kinks to be a meaningful check", file: file, line: line)
    }
  }

  /// conv5_block1's pattern: convolution shortcut, stride 2 (2 x 4 x 4 x 8 -> 2 x 2 x 2 x 16).
  func testConvolutionShortcutBlockGradients() {
    check(
      ResidualBlockShape(
        batch: 2, height: 4, width: 4, inChannels: 8, filters: 4, stride: 2, convolutionShortcut: true),
      seed: 31)
  }

  /// conv5_block2's pattern: identity shortcut (2 x 4 x 4 x 16 -> 2 x 4 x 4 x 16).
  func testIdentityShortcutBlockGradients() {
    check(
      ResidualBlockShape(
        batch: 2, height: 4, width: 4, inChannels: 16, filters: 4, stride: 1, convolutionShortcut: false),
      seed: 32)
  }

  /// The frozen-mode forward equals the layer-by-layer definition (naive convolutions, batch
  /// norm as Keras' inference formula in float64, ReLU, add), and training mode moves the
  /// moving statistics by Keras' rule.
  func testForwardMatchesLayerByLayerDefinition() {
    let s = ResidualBlockShape(
      batch: 2, height: 5, width: 5, inChannels: 8, filters: 4, stride: 2, convolutionShortcut: true)
    var rng = TestRandom(seed: 33)
    var p = parameters(s, &rng)
    let x = TestBuffer(rng.array(s.inputCount))
    func convBN(_ input: UnsafeBufferPointer<Float>, _ u: ConvBatchNormParameters, _ shape: ConvShape)
      -> TestBuffer
    {
      let (k, b) = (TestBuffer(u.kernel), TestBuffer(u.bias))
      let y = TestBuffer(repeating: 0, count: shape.outputCount)
      conv2dForwardNaive(y.m, input, kernel: k.r, bias: b.r, shape: shape)
      batchNormInferenceNaive(y.m, rows: shape.outputCount / shape.outChannels, batchNorm: u.batchNorm)
      keep(k, b)
      return y
    }
    let h1 = convBN(x.r, p.conv1, s.conv1)
    reluInPlace(h1.m)
    let h2 = convBN(h1.r, p.conv2, s.conv2)
    reluInPlace(h2.m)
    let h3 = convBN(h2.r, p.conv3, s.conv3)
    let hs = convBN(x.r, p.shortcut!, s.shortcut)
    addInPlace(h3.m, hs.r)
    reluInPlace(h3.m)
    let acts = ResidualBlockActivations(shape: s)
    residualBlockForward(acts, input: x.r, parameters: &p, mode: .frozen)
    let d = maxAbsDiff(acts.outputArray, h3.array)
    print("residual block forward (frozen BN) vs layer-by-layer definition: max |diff| \(d)")
    XCTAssertLessThan(d, 1e-5)
    let before = p.conv2.batchNorm
    residualBlockForward(acts, input: x.r, parameters: &p, mode: .training(momentum: 0.99))
    keep(x)
    let stats = acts.statistics[1]
    for o in 0..<s.filters {
      XCTAssertEqual(
        p.conv2.batchNorm.movingMean[o], before.movingMean[o] * 0.99 + stats.mean[o] * 0.01, accuracy: 1e-6)
      XCTAssertEqual(
        p.conv2.batchNorm.movingVariance[o], before.movingVariance[o] * 0.99 + stats.variance[o] * 0.01,
        accuracy: 1e-6)
    }
  }
}
