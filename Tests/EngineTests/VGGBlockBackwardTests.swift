import Foundation
import XCTest

@testable import Engine

/// VGG's block5 pattern in miniature, composed from the engine's pieces as a fine-tuning loop
/// would: conv 3x3 'same' + ReLU twice, max pool 2x2/2, then GAP, L2, dense and softmax
/// cross-entropy. Every gradient against central differences, skipping probes that switch a
/// ReLU or move a pooling window's maximum.
final class VGGBlockBackwardTests: XCTestCase {
  let (n, h, w, c0, c, classes) = (2, 6, 6, 3, 4, 3)
  var conv1: ConvShape { shape(c0) }
  var conv2: ConvShape { shape(c) }
  let pool = Window2D(height: 2, width: 2, strideHeight: 2, strideWidth: 2)

  func shape(_ cin: Int) -> ConvShape {
    let pad = Padding2D.same(height: h, width: w, window: (3, 3), stride: (1, 1))
    return ConvShape(
      batch: n, height: h, width: w, inChannels: cin, outChannels: c,
      window: Window2D(height: 3, width: 3, strideHeight: 1, strideWidth: 1, padding: pad))
  }

  /// Parameters in one vector: kernel1, bias1, kernel2, bias2, dense weight, dense bias.
  var sizes: [Int] { [conv1.kernelCount, c, conv2.kernelCount, c, c * classes, classes] }

  func split(_ v: [Float]) -> [[Float]] {
    var offset = 0
    return sizes.map { size in
      defer { offset += size }
      return Array(v[offset..<(offset + size)])
    }
  }

  /// Loss, the kink signature (ReLU signs and pooling winners), and with `backward` the
  /// gradients of the input and of all parameters.
  func run(_ x: [Float], _ parameters: [Float], labels: [Float], backward: Bool) -> (
    loss: Double, kinks: [Float], dx: [Float], dParameters: [Float]
  ) {
    let p = split(parameters).map { TestBuffer($0) }
    let (oh, ow) = (pool.outputHeight(h), pool.outputWidth(w))
    let xb = TestBuffer(x)
    let scratch = TestBuffer(repeating: 0, count: max(conv2dScratchCount(conv1), conv2dScratchCount(conv2)))
    let a1 = TestBuffer(repeating: 0, count: conv1.outputCount)
    conv2dForward(
      a1.m, xb.r, kernel: p[0].r, bias: p[1].r, shape: conv1, activation: .relu, scratch: scratch.m)
    let a2 = TestBuffer(repeating: 0, count: conv2.outputCount)
    conv2dForward(
      a2.m, a1.r, kernel: p[2].r, bias: p[3].r, shape: conv2, activation: .relu, scratch: scratch.m)
    let pooled = TestBuffer(repeating: 0, count: n * oh * ow * c)
    maxPool2dForward(pooled.m, a2.r, batch: n, height: h, width: w, channels: c, window: pool)
    let g = TestBuffer(repeating: 0, count: n * c)
    globalAveragePool(g.m, pooled.r, batch: n, height: oh, width: ow, channels: c)
    let features = TestBuffer(g.array)
    l2NormalizeRows(features.m, rows: n, width: c)
    let logits = TestBuffer(repeating: 0, count: n * classes)
    denseForward(
      logits.m, features.r, weight: p[4].r, bias: p[5].r, batch: n, inFeatures: c, outFeatures: classes)
    let probabilities = TestBuffer(repeating: 0, count: n * classes)
    softmaxForward(probabilities.m, logits.r, rows: n, width: classes)
    var loss = 0.0
    for r in 0..<n {
      let z = (0..<classes).map { Double(logits.array[r * classes + $0]) }
      let top = z.max()!
      let lse = top + log(z.map { exp($0 - top) }.reduce(0, +))
      for j in 0..<classes { loss += Double(labels[r * classes + j]) * (lse - z[j]) }
    }
    loss /= Double(n)
    // Pooling winners: route ones back through the pool.
    let winners = TestBuffer(repeating: 0, count: a2.count)
    let ones = TestBuffer(repeating: 1, count: pooled.count)
    maxPool2dBackward(
      winners.m, ones.r, input: a2.r, batch: n, height: h, width: w, channels: c, window: pool)
    let kinks = a1.array.map { $0 > 0 ? 1 : 0 } + a2.array.map { $0 > 0 ? 1 : 0 } + winners.array
    guard backward else {
      keep(xb, scratch, ones)
      keep(p[0], p[1], p[2], p[3], p[4], p[5])
      return (loss, kinks, [], [])
    }
    let d = sizes.map { TestBuffer(repeating: 0, count: $0) }
    let lb = TestBuffer(labels)
    let dLogits = TestBuffer(repeating: 0, count: n * classes)
    categoricalCrossEntropyBackward(
      dLogits.m, probabilities: probabilities.r, labels: lb.r, rowWeights: nil, lossWeight: 1, batch: n,
      classes: classes)
    let dFeatures = TestBuffer(repeating: 0, count: n * c)
    denseBackward(
      dx: dFeatures.m, dWeight: d[4].m, dBias: d[5].m, dy: dLogits.r, x: features.r, weight: p[4].r, batch: n,
      inFeatures: c, outFeatures: classes)
    let dG = TestBuffer(repeating: 0, count: n * c)
    l2NormalizeRowsBackward(dG.m, dFeatures.r, x: g.r, rows: n, width: c)
    let dPooled = TestBuffer(repeating: 0, count: pooled.count)
    globalAveragePoolBackward(dPooled.m, dG.r, batch: n, height: oh, width: ow, channels: c)
    let dA2 = TestBuffer(repeating: 0, count: a2.count)
    maxPool2dBackward(dA2.m, dPooled.r, input: a2.r, batch: n, height: h, width: w, channels: c, window: pool)
    let dZ2 = TestBuffer(repeating: 0, count: a2.count)
    reluBackward(dZ2.m, dA2.r, y: a2.r)
    let dA1 = TestBuffer(repeating: 0, count: a1.count)
    conv2dBackward(
      dInput: dA1.m, dKernel: d[2].m, dBias: d[3].m, dOutput: dZ2.r, input: a1.r, kernel: p[2].r,
      shape: conv2,
      scratch: scratch.m)
    let dZ1 = TestBuffer(repeating: 0, count: a1.count)
    reluBackward(dZ1.m, dA1.r, y: a1.r)
    let dx = TestBuffer(repeating: 0, count: x.count)
    conv2dBackward(
      dInput: dx.m, dKernel: d[0].m, dBias: d[1].m, dOutput: dZ1.r, input: xb.r, kernel: p[0].r, shape: conv1,
      scratch: scratch.m)
    keep(xb, scratch, ones, lb)
    keep(p[0], p[1], p[2], p[3], p[4], p[5])
    return (loss, kinks, dx.array, d.flatMap { $0.array })
  }

  func testVGGBlockGradients() {
    var rng = TestRandom(seed: 51)
    let x = rng.array(conv1.inputCount)
    let parameters = sizes.enumerated().flatMap { i, size in rng.array(size).map { i == 4 ? 3 * $0 : $0 } }
    var labels = [Float](repeating: 0, count: n * classes)
    for r in 0..<n { labels[r * classes + (r + 1) % classes] = 1 }
    let got = run(x, parameters, labels: labels, backward: true)
    var skipped = 0
    func differences(_ v: [Float], _ f: ([Float]) -> (loss: Double, kinks: [Float])) -> [Float] {
      let step: Float = 3e-3
      var probe = v
      var out = [Float](repeating: .nan, count: v.count)
      for i in 0..<v.count {
        probe[i] = v[i] + step
        let up = f(probe)
        probe[i] = v[i] - step
        let down = f(probe)
        probe[i] = v[i]
        if up.kinks != down.kinks {
          skipped += 1
          continue
        }
        out[i] = Float((up.loss - down.loss) / Double((v[i] + step) - (v[i] - step)))
      }
      return out
    }
    let numX = differences(x) {
      let r = run($0, parameters, labels: labels, backward: false)
      return (r.loss, r.kinks)
    }
    let numP = differences(parameters) {
      let r = run(x, $0, labels: labels, backward: false)
      return (r.loss, r.kinks)
    }
    func scaled(_ a: [Float], _ b: [Float]) -> Float {
      let kept = b.indices.filter { !b[$0].isNaN }
      let scale = kept.map { abs(b[$0]) }.max() ?? 1
      return kept.map { abs(a[$0] - b[$0]) }.max()! / scale
    }
    let (ex, ep) = (scaled(got.dx, numX), scaled(got.dParameters, numP))
    let total = x.count + parameters.count
    print(
      "VGG block: max scaled error dx \(ex), parameters \(ep); \(skipped) of \(total) coordinates skipped",
      "(probes straddle a ReLU kink or move a pooling maximum)")
    XCTAssertLessThan(max(ex, ep), 2e-3)
    XCTAssertLessThan(skipped * 10, total)
  }
}
