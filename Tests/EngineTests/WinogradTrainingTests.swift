// Training's Winograd F(2x2, 3x3) path of conv2dForward and conv2dBackward (full scratch)
// against the naive definitions, at every kernel build the machine can run (narrower ones
// forced): odd and even sizes (tiles past the output's edge), 'same', 'valid' and asymmetric
// padding, channel counts around the vector widths (4, 8, 16) and their tails, with and without
// an input gradient, with bias, residual and ReLU in the forward epilogue.

import XCTest

@testable import Engine

final class WinogradTrainingTests: XCTestCase {
  override func tearDown() {
    KernelLevel.force(.best)
    super.tearDown()
  }

  private var levels: [KernelLevel] { KernelLevel.allCases.filter { $0 <= KernelLevel.best }.reversed() }

  /// (batch, height, width, in channels, out channels, padding; nil: 'same').
  private let cases: [(n: Int, h: Int, w: Int, c: Int, k: Int, pad: Padding2D?)] = [
    (1, 1, 1, 1, 1, nil), (2, 3, 4, 3, 5, nil), (1, 7, 7, 17, 33, nil), (3, 5, 6, 16, 8, .zero),
    (2, 8, 8, 32, 16, nil), (1, 4, 9, 20, 40, Padding2D(top: 0, bottom: 2, left: 2, right: 0)),
    (2, 7, 7, 64, 48, nil), (1, 3, 3, 9, 7, .zero),
  ]

  private func shape(_ t: (n: Int, h: Int, w: Int, c: Int, k: Int, pad: Padding2D?)) -> ConvShape {
    let p = t.pad ?? Padding2D.same(height: t.h, width: t.w, window: (3, 3), stride: (1, 1))
    let window = Window2D(height: 3, width: 3, strideHeight: 1, strideWidth: 1, padding: p)
    return ConvShape(batch: t.n, height: t.h, width: t.w, inChannels: t.c, outChannels: t.k, window: window)
  }

  func testForwardMatchesNaiveAtEveryLevel() {
    var rng = TestRandom(seed: 7)
    var worst: Float = 0
    for level in levels {
      XCTAssertEqual(KernelLevel.force(level), level)
      for t in cases {
        let s = shape(t)
        XCTAssertNotNil(WinogradTrainingPlan(s, scratch: conv2dScratchCount(s)), "\(s) takes the Winograd path")
        let (x, kernel, bias, residual) = (
          rng.array(s.inputCount), rng.array(s.kernelCount), rng.array(s.outChannels), rng.array(s.outputCount)
        )
        let (xb, kb, bb, rb) = (TestBuffer(x), TestBuffer(kernel), TestBuffer(bias), TestBuffer(residual))
        let reference = TestBuffer(repeating: .nan, count: s.outputCount)
        conv2dForwardNaive(reference.m, xb.r, kernel: kb.r, bias: bb.r, shape: s)
        let scratch = TestBuffer(repeating: .nan, count: conv2dScratchCount(s))
        for (withResidual, activation) in [(false, Activation.identity), (true, .relu)] {
          let y = TestBuffer(repeating: .nan, count: s.outputCount)
          conv2dForward(
            y.m, xb.r, kernel: kb.r, bias: bb.r, shape: s, residual: withResidual ? rb.r : nil,
            activation: activation, scratch: scratch.m)
          let expected = zip(reference.array, residual).map { z, r -> Float in
            let sum = withResidual ? z + r : z
            return activation == .relu ? max(sum, 0) : sum
          }
          let d = maxAbsDiff(y.array, expected)
          worst = max(worst, d)
          XCTAssertLessThan(d, 2e-6 * Float(9 * s.inChannels).squareRoot(), "\(level) \(s) \(activation)")
        }
        keep(xb, kb, bb, rb, scratch)
      }
    }
    print("Winograd training forward vs naive, \(levels.count) kernel levels: max |diff| \(worst)")
  }

  /// Gradients accumulate onto buffers that start at 1, so a backward that overwrites fails.
  func testBackwardMatchesNaiveAtEveryLevel() {
    var rng = TestRandom(seed: 11)
    var worst: Float = 0
    for level in levels {
      KernelLevel.force(level)
      for t in cases {
        let s = shape(t)
        let (xb, kb, gb) = (
          TestBuffer(rng.array(s.inputCount)), TestBuffer(rng.array(s.kernelCount)),
          TestBuffer(rng.array(s.outputCount))
        )
        let dxNaive = TestBuffer(repeating: 1, count: s.inputCount)
        let dkNaive = TestBuffer(repeating: 1, count: s.kernelCount)
        let dbNaive = TestBuffer(repeating: 1, count: s.outChannels)
        conv2dBackwardNaive(
          dInput: dxNaive.m, dKernel: dkNaive.m, dBias: dbNaive.m, dOutput: gb.r, input: xb.r, kernel: kb.r, shape: s)
        let scratch = TestBuffer(repeating: .nan, count: conv2dBackwardScratchCount(s))
        for withInput in [true, false] {
          let dx = TestBuffer(repeating: 1, count: s.inputCount)
          let dk = TestBuffer(repeating: 1, count: s.kernelCount)
          let db = TestBuffer(repeating: 1, count: s.outChannels)
          conv2dBackward(
            dInput: withInput ? dx.m : nil, dKernel: dk.m, dBias: db.m, dOutput: gb.r, input: xb.r, kernel: kb.r,
            shape: s, scratch: scratch.m)
          // Sums of 9 C (input gradient) and N OH OW (kernel gradient) products of values in [-1, 1).
          let dKernel = maxAbsDiff(dk.array, dkNaive.array)
          XCTAssertLessThan(
            dKernel, 2e-6 * Float(s.batch * s.outputHeight * s.outputWidth).squareRoot() + 1e-6,
            "\(level) \(s) dKernel")
          XCTAssertLessThan(maxAbsDiff(db.array, dbNaive.array), 1e-5, "\(level) \(s) dBias")
          if withInput {
            let dInput = maxAbsDiff(dx.array, dxNaive.array)
            XCTAssertLessThan(dInput, 2e-6 * Float(9 * s.outChannels).squareRoot() + 1e-6, "\(level) \(s) dInput")
            worst = max(worst, dInput)
          } else {
            XCTAssertEqual(dx.array, [Float](repeating: 1, count: s.inputCount), "\(level) \(s): no input gradient")
          }
          worst = max(worst, dKernel)
          keep(dx, dk, db)
        }
        keep(xb, kb, gb, dxNaive, dkNaive, dbNaive, scratch)
      }
    }
    print("Winograd training backward vs naive, \(levels.count) kernel levels: max |diff| \(worst)")
  }
}
