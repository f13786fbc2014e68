import XCTest

@testable import Engine

/// The engine's own inference kernels against naive references, at every kernel build the
/// test machine can run (AVX-512, AVX2+FMA, portable C; narrower builds forced).
final class PackedKernelTests: XCTestCase {
  override func tearDown() {
    KernelLevel.force(.best)
    super.tearDown()
  }

  /// The levels this machine can run, widest first.
  private var levels: [KernelLevel] { KernelLevel.allCases.filter { $0 <= KernelLevel.best }.reversed() }

  /// gemmPacked vs a float64 triple loop: sizes around every blocking boundary (micro-tile rows
  /// 4/6/12, panel 32, k block 128, row block 64/96, column block 256), with and without bias,
  /// residual and ReLU, and row strides wider than the matrices.
  func testPackedGEMMMatchesNaiveAtEveryLevel() {
    let sizes: [(m: Int, n: Int, k: Int)] = [
      (1, 1, 1), (5, 7, 3), (12, 32, 128), (13, 33, 129), (25, 70, 27), (97, 64, 257), (100, 257, 64),
      (6, 300, 9), (193, 96, 130), (109, 128, 300),
      // Packed A, row blocks outermost across three k blocks; then a B too large for that order.
      (200, 160, 300), (30, 300, 1100),
    ]
    var rng = TestRandom(seed: 7)
    for level in levels {
      XCTAssertEqual(KernelLevel.force(level), level)
      XCTAssertEqual(KernelLevel.active, level)
      var worst: Float = 0
      for (index, s) in sizes.enumerated() {
        let (lda, ldc) = (s.k + index % 3, s.n + 2 * (index % 2))
        let a = rng.array(s.m * lda)
        let b = rng.array(s.k * s.n)
        let bias = rng.array(s.n)
        let residual = rng.array(s.m * ldc)
        let packed = b.withUnsafeBufferPointer { packMatrix($0, rows: s.k, columns: s.n) }
        XCTAssertEqual(packed.count, packedCount(rows: s.k, columns: s.n))
        for (withEpilogue, activation) in [(false, Activation.identity), (true, .relu)] {
          var c = [Float](repeating: .nan, count: s.m * ldc)
          a.withUnsafeBufferPointer { ap in
            packed.withUnsafeBufferPointer { pp in
              bias.withUnsafeBufferPointer { bp in
                residual.withUnsafeBufferPointer { rp in
                  c.withUnsafeMutableBufferPointer { cp in
                    gemmPacked(
                      cp.baseAddress!, ldc: ldc, ap.baseAddress!, lda: lda, packed: pp.baseAddress!, m: s.m, n: s.n,
                      k: s.k, bias: withEpilogue ? bp.baseAddress! : nil,
                      residual: withEpilogue ? rp.baseAddress! : nil,
                      ldr: ldc, activation: activation)
                  }
                }
              }
            }
          }
          for i in 0..<s.m {
            for j in 0..<s.n {
              var sum = 0.0
              for p in 0..<s.k { sum += Double(a[i * lda + p]) * Double(b[p * s.n + j]) }
              if withEpilogue { sum = max(sum + Double(bias[j]) + Double(residual[i * ldc + j]), 0) }
              let d = abs(Float(sum) - c[i * ldc + j])
              worst = max(worst, d)
              XCTAssertLessThan(d, 1e-4 * Float(s.k).squareRoot(), "\(level) \(s) (\(i), \(j))")
            }
            // Columns past n in the row stride are never written.
            for j in s.n..<ldc { XCTAssertTrue(c[i * ldc + j].isNaN, "\(level) \(s) wrote past n") }
          }
        }
      }
      print("packed GEMM \(level) vs naive over \(sizes.count) shapes: max |diff| = \(worst)")
    }
  }

  /// conv2dForwardInference (Winograd and im2col/1x1 paths, 1 to 3 threads, every level) vs the
  /// naive convolution with the epilogue applied after it.
  func testInferenceConvolutionMatchesNaive() {
    let cases: [(n: Int, h: Int, w: Int, c: Int, k: Int, window: Window2D)] = [
      (2, 7, 9, 5, 6, Window2D(height: 3, width: 3, strideHeight: 1, strideWidth: 1, padding: Padding2D(all: 1))),
      (3, 5, 6, 19, 40, Window2D(height: 3, width: 3, strideHeight: 1, strideWidth: 1, padding: Padding2D(all: 1))),
      (
        2, 6, 5, 3, 9,
        Window2D(
          height: 3, width: 3, strideHeight: 1, strideWidth: 1, padding: Padding2D(top: 0, bottom: 2, left: 2, right: 1)
        )
      ),
      (1, 14, 13, 64, 32, Window2D(height: 3, width: 3, strideHeight: 1, strideWidth: 1, padding: Padding2D(all: 1))),
      (2, 8, 8, 16, 24, Window2D(height: 1, width: 1, strideHeight: 1, strideWidth: 1)),
      (2, 9, 9, 16, 24, Window2D(height: 1, width: 1, strideHeight: 2, strideWidth: 2)),
      (
        1, 15, 15, 3, 16,
        Window2D(height: 7, width: 7, strideHeight: 2, strideWidth: 2, padding: Padding2D(all: 3))
      ),
      (2, 7, 7, 8, 12, Window2D(height: 3, width: 3, strideHeight: 2, strideWidth: 2, padding: Padding2D(all: 1))),
    ]
    var rng = TestRandom(seed: 31)
    for level in levels {
      KernelLevel.force(level)
      var worst: Float = 0
      for (index, cs) in cases.enumerated() {
        let shape = ConvShape(
          batch: cs.n, height: cs.h, width: cs.w, inChannels: cs.c, outChannels: cs.k, window: cs.window)
        let x = rng.array(shape.inputCount)
        let kernel = rng.array(shape.kernelCount)
        let bias = rng.array(cs.k)
        let res = rng.array(shape.outputCount)
        var naive = [Float](repeating: 0, count: shape.outputCount)
        x.withUnsafeBufferPointer { xp in
          kernel.withUnsafeBufferPointer { kp in
            bias.withUnsafeBufferPointer { bp in
              naive.withUnsafeMutableBufferPointer { conv2dForwardNaive($0, xp, kernel: kp, bias: bp, shape: shape) }
            }
          }
        }
        let methods: [ConvolutionMethod] = winogradApplies(shape) ? [.winograd2x2, .winograd4x4, .gemm] : [.gemm]
        for method in methods {
          let packed = packConvolutionKernel(kernel, shape: shape, method: method)
          for threads in [1, 3] {
            for (useResidual, act) in [(false, Activation.identity), (true, Activation.relu)] {
              var fast = [Float](repeating: .nan, count: shape.outputCount)
              var scratch = [Float](
                repeating: .nan, count: max(1, threads * inferenceScratchPerThread(shape, method: method)))
              x.withUnsafeBufferPointer { xp in
                res.withUnsafeBufferPointer { rp in
                  bias.withUnsafeBufferPointer { bp in
                    packed.withUnsafeBufferPointer { pp in
                      fast.withUnsafeMutableBufferPointer { o in
                        scratch.withUnsafeMutableBufferPointer {
                          conv2dForwardInference(
                            o, xp, packedKernel: pp, bias: bp, shape: shape, residual: useResidual ? rp : nil,
                            activation: act, method: method, scratch: $0, threads: threads)
                        }
                      }
                    }
                  }
                }
              }
              var expected = naive
              for i in expected.indices {
                if useResidual { expected[i] += res[i] }
                if act == .relu { expected[i] = max(expected[i], 0) }
              }
              let d = maxAbsDiff(fast, expected)
              worst = max(worst, d)
              // float32 sums of patchSize products of values in [-1, 1]: rounding grows as its root;
              // F(4x4, 3x3)'s transforms (coefficients up to 8) round about 4x more (measured 1.6e-4
              // on the 64-channel case, 2.7e-5 for the others).
              let tolerance = (method == .winograd4x4 ? 16e-6 : 4e-6) * Float(shape.patchSize).squareRoot()
              XCTAssertLessThan(d, tolerance, "\(level) case \(index) \(method) threads \(threads)")
            }
          }
        }
      }
      print("inference convolution \(level) vs naive over \(cases.count) shapes: max |diff| = \(worst)")
    }
  }
}
