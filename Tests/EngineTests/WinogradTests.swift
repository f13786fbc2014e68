import XCTest

@testable import Engine

final class WinogradTests: XCTestCase {
  /// F(2x2, 3x3) and F(4x4, 3x3) vs the naive definition: odd and even sizes (partial last
  /// tiles), channel counts with and without a SIMD tail, 'same', 'valid' and asymmetric
  /// padding, residual and ReLU epilogues, tiles split over two threads across images.
  func testWinogradMatchesNaive() {
    let cases: [(n: Int, h: Int, w: Int, c: Int, k: Int, pad: Padding2D)] = [
      (2, 7, 9, 5, 6, Padding2D(all: 1)),
      (1, 8, 8, 16, 24, Padding2D(all: 1)),
      (3, 5, 6, 19, 11, Padding2D(all: 1)),
      (1, 9, 7, 8, 8, .zero),
      (2, 6, 5, 3, 9, Padding2D(top: 0, bottom: 2, left: 2, right: 1)),
      (1, 1, 1, 8, 8, Padding2D(all: 1)),
      (2, 14, 13, 64, 32, Padding2D(all: 1)),
    ]
    var rng = TestRandom(seed: 21)
    var worst: Float = 0
    for (index, cs) in cases.enumerated() {
      let window = Window2D(height: 3, width: 3, strideHeight: 1, strideWidth: 1, padding: cs.pad)
      let shape = ConvShape(
        batch: cs.n, height: cs.h, width: cs.w, inChannels: cs.c, outChannels: cs.k, window: window)
      XCTAssertTrue(winogradApplies(shape))
      let x = rng.array(shape.inputCount)
      let kernel = rng.array(shape.kernelCount)
      let bias = rng.array(cs.k)
      let res = rng.array(shape.outputCount)
      for method in [ConvolutionMethod.winograd2x2, .winograd4x4] {
        let u = packConvolutionKernel(kernel, shape: shape, method: method)
        for (useResidual, act) in [(false, Activation.identity), (true, Activation.relu)] {
          var fast = [Float](repeating: .nan, count: shape.outputCount)
          var naive = fast
          var scratch = [Float](repeating: .nan, count: 2 * inferenceScratchPerThread(shape, method: method))
          x.withUnsafeBufferPointer { xp in
            res.withUnsafeBufferPointer { rp in
              bias.withUnsafeBufferPointer { bp in
                u.withUnsafeBufferPointer { up in
                  fast.withUnsafeMutableBufferPointer { o in
                    scratch.withUnsafeMutableBufferPointer {
                      conv2dForwardInference(
                        o, xp, packedKernel: up, bias: bp, shape: shape, residual: useResidual ? rp : nil,
                        activation: act, method: method, scratch: $0, threads: 2)
                    }
                  }
                }
                kernel.withUnsafeBufferPointer { kp in
                  naive.withUnsafeMutableBufferPointer { o in
                    conv2dForwardNaive(o, xp, kernel: kp, bias: bp, shape: shape)
                    if useResidual { addInPlace(o, rp) }
                    if act == .relu { reluInPlace(o) }
                  }
                }
              }
            }
          }
          let d = maxAbsDiff(fast, naive)
          worst = max(worst, d)
          // float32 sums of 9 * C products: rounding grows as their root; F(4x4, 3x3)'s transforms
          // (coefficients up to 8) round about 4x more than F(2x2, 3x3)'s.
          let tolerance = (method == .winograd4x4 ? 16e-6 : 4e-6) * Float(shape.patchSize).squareRoot()
          XCTAssertLessThan(d, tolerance, "case \(index) \(cs) \(method) residual \(useResidual)")
        }
      }
    }
    print("Winograd F(2x2,3x3) and F(4x4,3x3) vs naive over \(cases.count) shapes: max |diff| = \(worst)")
  }

  /// U = G g G^T of F(4x4, 3x3) against the definition written out here, element by element in
  /// float64 in the same order, so bit for bit: pair counts below, at and past the eight-pair
  /// vector step, split over two threads.
  func testWinograd4KernelTransformMatchesDefinition() {
    let g: [[Double]] = [
      [1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
      [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1],
    ]
    var rng = TestRandom(seed: 5)
    for (c, k) in [(1, 1), (1, 7), (2, 4), (5, 7), (16, 33), (64, 64)] {
      let plane = c * k
      let kernel = rng.array(9 * plane)
      let u = winograd4TransformKernel(kernel, inChannels: c, outChannels: k)
      XCTAssertEqual(u.count, 36 * plane)
      for ck in 0..<plane {
        var gg = [[Double]](repeating: [0, 0, 0], count: 6)  // G g
        for a in 0..<6 {
          for x in 0..<3 {
            let column = (0..<3).map { y in Double(kernel[(3 * y + x) * plane + ck]) }
            gg[a][x] = g[a][0] * column[0] + g[a][1] * column[1] + g[a][2] * column[2]
          }
        }
        for a in 0..<6 {
          for b in 0..<6 {
            let value = gg[a][0] * g[b][0] + gg[a][1] * g[b][1] + gg[a][2] * g[b][2]
            XCTAssertEqual(
              u[(a * 6 + b) * plane + ck], Float(value), "(c, k) = (\(c), \(k)), pair \(ck), e \(a * 6 + b)")
          }
        }
      }
    }
  }

  /// The F(4x4) kernel packed a block of input channels at a time equals the whole U packed
  /// element by element, for blocks that divide C and that do not, one channel, all of C, and
  /// output counts below, at and past the 32-column panel.
  func testWinograd4KernelPackedInBlocksMatchesWholeTransform() {
    var rng = TestRandom(seed: 9)
    for (c, k) in [(1, 1), (5, 7), (16, 33), (37, 64), (64, 40)] {
      let kernel = rng.array(9 * c * k)
      let u = winograd4TransformKernel(kernel, inChannels: c, outChannels: k)
      let stride = packedCount(rows: c, columns: k)
      var whole = [Float](repeating: .nan, count: 36 * stride)
      for e in 0..<36 {
        let element = Array(u[(e * c * k)..<((e + 1) * c * k)])
        let packed = element.withUnsafeBufferPointer { packMatrix($0, rows: c, columns: k) }
        whole.replaceSubrange((e * stride)..<((e + 1) * stride), with: packed)
      }
      for block in Set([1, 3, c, c + 5]) {
        var blocked = [Float](repeating: .nan, count: 36 * stride)
        blocked.withUnsafeMutableBufferPointer {
          packWinograd4Kernel(kernel, inChannels: c, outChannels: k, into: $0, channelsPerBlock: block)
        }
        XCTAssertEqual(
          blocked.map(\.bitPattern), whole.map(\.bitPattern), "(c, k) = (\(c), \(k)), \(block) channels a block")
      }
    }
  }
}
