import XCTest

@testable import Engine

/// Backward passes of batch norm, pooling, zero padding, residual add and L2 normalisation,
/// each against finite differences of L = sum(f(x) * r) (float64 loss, float32 steps) and,
/// where there is one, a naive reference.
final class LayerBackwardTests: XCTestCase {
  func batchNorm(_ c: Int, _ rng: inout TestRandom) -> BatchNormParameters {
    BatchNormParameters(
      gamma: rng.array(c).map { 1 + 0.5 * $0 }, beta: rng.array(c),
      movingMean: rng.array(c).map { 0.3 * $0 }, movingVariance: rng.array(c).map { 0.8 + 0.5 * $0 },
      epsilon: 1.001e-5)
  }

  /// Frozen statistics: y is affine in x, gamma and beta, so a large step is exact.
  func testBatchNormFrozenBackward() {
    var rng = TestRandom(seed: 11)
    let (rows, c) = (12, 5)
    let bn = batchNorm(c, &rng)
    let x = rng.array(rows * c).map { 2 * $0 + 0.5 }
    let r = rng.array(rows * c)
    func forward(_ x: [Float], _ bn: BatchNormParameters) -> [Float] {
      let (xb, y) = (TestBuffer(x), TestBuffer(repeating: .nan, count: x.count))
      batchNormFrozenForward(y.m, xb.r, rows: rows, batchNorm: bn)
      keep(xb)
      return y.array
    }
    // The forward against the float64 definition in BatchNorm.swift.
    let reference = TestBuffer(x)
    batchNormInferenceNaive(reference.m, rows: rows, batchNorm: bn)
    let forwardDiff = maxAbsDiff(forward(x, bn), reference.array)
    XCTAssertLessThan(forwardDiff, 1e-5)

    let (dx, dg, db) = (
      TestBuffer(repeating: 1, count: rows * c), TestBuffer(repeating: 1, count: c),
      TestBuffer(repeating: 1, count: c)
    )
    let (xb, rb) = (TestBuffer(x), TestBuffer(r))
    batchNormFrozenBackward(dx: dx.m, dGamma: dg.m, dBeta: db.m, dy: rb.r, x: xb.r, rows: rows, batchNorm: bn)
    keep(xb, rb)
    let numX = centralDifferences64(x, h: 0.25) { dot64(forward($0, bn), r) }
    let numG = centralDifferences64(bn.gamma, h: 0.25) {
      var p = bn
      p.gamma = $0
      return dot64(forward(x, p), r)
    }
    let numB = centralDifferences64(bn.beta, h: 0.25) {
      var p = bn
      p.beta = $0
      return dot64(forward(x, p), r)
    }
    let rel = max(
      maxRelativeError(dx.array.map { $0 - 1 }, numX), maxRelativeError(dg.array.map { $0 - 1 }, numG),
      maxRelativeError(db.array.map { $0 - 1 }, numB))
    print("batch norm frozen: forward vs naive \(forwardDiff), backward vs finite differences max rel \(rel)")
    XCTAssertLessThan(rel, 1e-4)
  }

  /// Training mode: the full dx through the batch mean and variance (nonlinear: step 1e-2,
  /// truncation error O(h^2) ~ 1e-4 relative), the saved statistics and Keras' moving update.
  func testBatchNormTrainingBackward() {
    var rng = TestRandom(seed: 12)
    let (rows, c) = (18, 4)
    let bn = batchNorm(c, &rng)
    let x = rng.array(rows * c).map { 1.5 * $0 + 0.7 }
    let r = rng.array(rows * c)
    func forward(_ x: [Float], _ bn: BatchNormParameters) -> (
      y: [Float], bn: BatchNormParameters,
      stats: BatchNormBatchStatistics
    ) {
      var p = bn
      var stats = BatchNormBatchStatistics(channels: c)
      let (xb, y) = (TestBuffer(x), TestBuffer(repeating: .nan, count: x.count))
      batchNormTrainingForward(y.m, xb.r, rows: rows, batchNorm: &p, momentum: 0.99, statistics: &stats)
      keep(xb)
      return (y.array, p, stats)
    }
    let run = forward(x, bn)
    // Statistics and the moving update against a float64 computation.
    var statErr = 0.0
    for o in 0..<c {
      let col = (0..<rows).map { Double(x[$0 * c + o]) }
      let mean = col.reduce(0, +) / Double(rows)
      let variance = col.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(rows)
      statErr = max(
        statErr, abs(Double(run.stats.mean[o]) - mean), abs(Double(run.stats.variance[o]) - variance),
        abs(Double(run.bn.movingMean[o]) - (Double(bn.movingMean[o]) * 0.99 + mean * 0.01)),
        abs(Double(run.bn.movingVariance[o]) - (Double(bn.movingVariance[o]) * 0.99 + variance * 0.01)),
        abs(Double(run.stats.inverseStd[o]) - 1 / (variance + 1.001e-5).squareRoot()))
    }
    XCTAssertLessThan(statErr, 1e-5)

    let (dx, dg, db) = (
      TestBuffer(repeating: 1, count: rows * c), TestBuffer(repeating: 1, count: c),
      TestBuffer(repeating: 1, count: c)
    )
    let (xb, rb, gb) = (TestBuffer(x), TestBuffer(r), TestBuffer(bn.gamma))
    batchNormTrainingBackward(
      dx: dx.m, dGamma: dg.m, dBeta: db.m, dy: rb.r, x: xb.r, rows: rows, gamma: gb.r, statistics: run.stats)
    keep(xb, rb, gb)
    let numX = centralDifferences64(x, h: 1e-2) { dot64(forward($0, bn).y, r) }
    let numG = centralDifferences64(bn.gamma, h: 0.25) {
      var p = bn
      p.gamma = $0
      return dot64(forward(x, p).y, r)
    }
    let numB = centralDifferences64(bn.beta, h: 0.25) {
      var p = bn
      p.beta = $0
      return dot64(forward(x, p).y, r)
    }
    let relX = maxRelativeError(dx.array.map { $0 - 1 }, numX)
    let relP = max(
      maxRelativeError(dg.array.map { $0 - 1 }, numG), maxRelativeError(db.array.map { $0 - 1 }, numB))
    print(
      "batch norm training: statistics max |diff| \(statErr), dx max rel \(relX), dgamma/dbeta max rel",
      relP
    )
    XCTAssertLessThan(relX, 2e-3)
    XCTAssertLessThan(relP, 1e-4)
  }

  /// The pooling windows of the backbones: VGG's 2x2/2 'valid', 'same' 3x3/2 (padding never
  /// wins), ResNet's ZeroPadding2D(1) + 3x3/2 (padding zero can win on negative inputs), and an
  /// odd 'same' window. Fast vs naive on inputs full of ties; finite differences without ties.
  func testMaxPoolBackward() {
    let (n, h, w, c) = (2, 7, 6, 3)
    let cases: [(Window2D, Float, Float)] = [  // window, pad value, input offset
      (Window2D(height: 2, width: 2, strideHeight: 2, strideWidth: 2), 0, 0),
      (
        Window2D(
          height: 3, width: 3, strideHeight: 2, strideWidth: 2,
          padding: Padding2D.same(height: h, width: w, window: (3, 3), stride: (2, 2))), -.infinity, 0
      ),
      (Window2D(height: 3, width: 3, strideHeight: 2, strideWidth: 2, padding: Padding2D(all: 1)), 0, -1.2),
      (
        Window2D(
          height: 2, width: 3, strideHeight: 1, strideWidth: 2,
          padding: Padding2D.same(height: h, width: w, window: (2, 3), stride: (1, 2))), -.infinity, 0
      ),
    ]
    var rng = TestRandom(seed: 13)
    var worstNaive: Float = 0
    var worstFD: Float = 0
    for (window, pad, offset) in cases {
      let oh = window.outputHeight(h)
      let ow = window.outputWidth(w)
      let r = rng.array(n * oh * ow * c)
      func backward(_ x: [Float], naive: Bool) -> [Float] {
        let (dx, xb, rb) = (TestBuffer(repeating: 1, count: x.count), TestBuffer(x), TestBuffer(r))
        let f = naive ? maxPool2dBackwardNaive : maxPool2dBackward
        f(dx.m, rb.r, xb.r, n, h, w, c, window, pad)
        keep(xb, rb)
        return dx.array.map { $0 - 1 }
      }
      func forward(_ x: [Float]) -> [Float] {
        let (y, xb) = (TestBuffer(repeating: .nan, count: r.count), TestBuffer(x))
        maxPool2dForward(y.m, xb.r, batch: n, height: h, width: w, channels: c, window: window, padValue: pad)
        keep(xb)
        return y.array
      }
      // Ties: three distinct values.
      let ties = rng.array(n * h * w * c).map { ($0 * 1.5).rounded() * 0.5 + offset }
      let d = maxAbsDiff(backward(ties, naive: false), backward(ties, naive: true))
      worstNaive = max(worstNaive, d)
      XCTAssertEqual(d, 0, "\(window)")
      let x = rng.array(n * h * w * c).map { $0 + offset }
      // A small step: max pooling is piecewise linear, and near-equal random values must not swap.
      let num = centralDifferences64(x, h: 1e-4) { dot64(forward($0), r) }
      let rel = maxRelativeError(backward(x, naive: false), num)
      worstFD = max(worstFD, rel)
      XCTAssertLessThan(rel, 1e-3, "\(window)")
    }
    print(
      "max pool backward: fast vs naive (ties) max |diff| \(worstNaive), vs finite differences max rel",
      worstFD
    )
  }

  /// GAP, zero padding and residual add are linear: their backward is their adjoint.
  func testLinearLayersBackward() {
    var rng = TestRandom(seed: 14)
    let (n, h, w, c) = (2, 3, 4, 5)
    let x = rng.array(n * h * w * c)
    let xb = TestBuffer(x)

    let g = rng.array(n * c)
    let gap = TestBuffer(repeating: 0, count: n * c)
    globalAveragePool(gap.m, xb.r, batch: n, height: h, width: w, channels: c)
    let dGap = TestBuffer(repeating: 0, count: x.count)
    let gb = TestBuffer(g)
    globalAveragePoolBackward(dGap.m, gb.r, batch: n, height: h, width: w, channels: c)
    let gapErr = abs(dot64(gap.array, g) - dot64(x, dGap.array))

    let p = Padding2D(top: 1, bottom: 2, left: 3, right: 0)
    let padded = TestBuffer(repeating: .nan, count: n * (h + 3) * (w + 3) * c)
    zeroPadding2dForward(padded.m, xb.r, batch: n, height: h, width: w, channels: c, padding: p)
    let gp = rng.array(padded.count)
    let gpb = TestBuffer(gp)
    let dPad = TestBuffer(repeating: 0, count: x.count)
    zeroPadding2dBackward(dPad.m, gpb.r, batch: n, height: h, width: w, channels: c, padding: p)
    let padErr = abs(dot64(padded.array, gp) - dot64(x, dPad.array))
    // Zero padding framed the input exactly (the forward is the definition).
    XCTAssertEqual(padded.array.filter { $0 != 0 }.count, x.filter { $0 != 0 }.count)

    let (dA, dB) = (TestBuffer(repeating: 1, count: x.count), TestBuffer(repeating: 2, count: x.count))
    addBackward(dA: dA.m, dB: dB.m, xb.r)
    let addErr = max(maxAbsDiff(dA.array, x.map { $0 + 1 }), maxAbsDiff(dB.array, x.map { $0 + 2 }))
    keep(xb, gb, gpb)
    print("GAP / zero padding adjoint |diff| \(gapErr) / \(padErr), add backward \(addErr)")
    XCTAssertLessThan(gapErr, 1e-5)
    XCTAssertLessThan(padErr, 1e-5)
    XCTAssertEqual(addErr, 0)
  }

  /// L2 normalisation backward against finite differences, including a row whose squared
  /// norm is below the epsilon (the norm is then a constant).
  func testL2NormalizeBackward() {
    var rng = TestRandom(seed: 15)
    let (rows, d) = (4, 6)
    var x = rng.array(rows * d)
    for j in 0..<d { x[3 * d + j] *= 1e-8 }
    let r = rng.array(rows * d)
    func forward(_ x: [Float]) -> [Float] {
      let y = TestBuffer(x)
      l2NormalizeRows(y.m, rows: rows, width: d)
      return y.array
    }
    let (dx, xb, rb) = (TestBuffer(repeating: 1, count: x.count), TestBuffer(x), TestBuffer(r))
    l2NormalizeRowsBackward(dx.m, rb.r, x: xb.r, rows: rows, width: d)
    keep(xb, rb)
    let got = dx.array.map { $0 - 1 }
    let num = centralDifferences64(Array(x[0..<(3 * d)]), h: 1e-3) {
      dot64(forward($0 + x[(3 * d)...]), r)
    }
    let rel = maxRelativeError(Array(got[0..<(3 * d)]), num)
    // Below the epsilon: dx = dy / 1e-6 exactly (a step of 1e-3 would leave the regime).
    let tiny = maxRelativeError(Array(got[(3 * d)...]), r[(3 * d)...].map { $0 * 1e6 }, floor: 1)
    print("l2 normalize backward: max rel vs finite differences \(rel), below-epsilon row \(tiny)")
    XCTAssertLessThan(rel, 2e-3)
    XCTAssertLessThan(tiny, 1e-6)
  }
}
