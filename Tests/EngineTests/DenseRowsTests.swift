// The training kernels on batch rows read in place (DenseRows.swift) against their naive
// references, at every kernel build the machine can run (narrower ones forced): shapes around
// every tile boundary (tiles of 2 to 16 rows, or inputs, by 1 to 6 vectors of units, the rows
// depending on the vectors; vectors of 4/8/16 floats; units not a multiple of the vector width;
// more units than one tile's 24/48/96) and block boundary (forward 32 rows x 128 inputs,
// backward 64 inputs), rows scattered through a larger matrix, and the Adam update fused into
// the backward pass against the gradient followed by the scalar Adam definition.

import XCTest

@testable import Engine

final class DenseRowsTests: XCTestCase {
  override func tearDown() {
    KernelLevel.force(.best)
    super.tearDown()
  }

  /// The levels this machine can run, widest first.
  private var levels: [KernelLevel] { KernelLevel.allCases.filter { $0 <= KernelLevel.best }.reversed() }

  /// (batch rows, units, inputs).
  private let shapes: [(m: Int, n: Int, k: Int)] = [
    (1, 1, 1), (1, 1, 16), (3, 5, 7), (4, 6, 64), (5, 7, 100), (32, 12, 2048), (32, 13, 129), (7, 25, 96),
    (33, 52, 200), (2, 64, 31), (17, 1, 513),
    // Across the blocks: rows past 32 (forward), k past 128 and 1024 with a tail (forward),
    // k past 64 (backward); units past 96 (every build's tile).
    (70, 13, 1100), (40, 7, 390), (65, 20, 2048), (9, 100, 130), (3, 49, 65),
  ]

  /// A matrix (rows, k) with the batch's rows scattered through it: row i of the batch is matrix
  /// row (7 i + 3) mod rows, as a shuffled batch's rows are.
  private func scatteredRows(_ matrix: [Float], rows: Int, k: Int, batch: Int) -> [Int] {
    (0..<batch).map { (7 * $0 + 3) % rows }
  }

  func testForwardAndKernelGradientMatchNaiveAtEveryLevel() {
    var rng = TestRandom(seed: 11)
    for level in levels {
      XCTAssertEqual(KernelLevel.force(level), level)
      var (worstForward, worstGradient): (Float, Float) = (0, 0)
      for s in shapes {
        let total = 2 * s.m + 5
        let matrix = rng.array(total * s.k)
        let weight = rng.array(s.n * s.k)
        let bias = rng.array(s.n)
        let dz = rng.array(s.m * (s.n + 3))
        let picks = scatteredRows(matrix, rows: total, k: s.k, batch: s.m)
        let ldz = s.n + 3  // a row stride wider than the units
        var z = [Float](repeating: .nan, count: s.m * ldz)
        var expected = z
        var gradient = [Float](repeating: .nan, count: s.n * s.k)
        var expectedGradient = gradient
        matrix.withUnsafeBufferPointer { x in
          let rows = picks.map { x.baseAddress! + $0 * s.k }
          rows.withUnsafeBufferPointer { rows in
            weight.withUnsafeBufferPointer { w in
              bias.withUnsafeBufferPointer { b in
                z.withUnsafeMutableBufferPointer {
                  denseForwardRows(
                    $0, ldz: ldz, rows: rows, weight: w, bias: b, batch: s.m, inputs: s.k, outputs: s.n)
                }
                expected.withUnsafeMutableBufferPointer {
                  denseForwardRowsNaive(
                    $0, ldz: ldz, rows: rows, weight: w, bias: b, batch: s.m, inputs: s.k, outputs: s.n)
                }
              }
            }
            dz.withUnsafeBufferPointer { dz in
              gradient.withUnsafeMutableBufferPointer {
                denseKernelGradientRows($0, rows: rows, dz: dz, ldz: ldz, batch: s.m, inputs: s.k, outputs: s.n)
              }
              expectedGradient.withUnsafeMutableBufferPointer {
                denseKernelGradientRowsNaive(
                  $0, rows: rows, dz: dz, ldz: ldz, batch: s.m, inputs: s.k, outputs: s.n)
              }
            }
          }
        }
        for i in 0..<s.m {
          for j in 0..<ldz {
            if j >= s.n {
              XCTAssertTrue(z[i * ldz + j].isNaN, "\(level) \(s) wrote past the units")
              continue
            }
            let d = abs(z[i * ldz + j] - expected[i * ldz + j])
            worstForward = max(worstForward, d)
            XCTAssertLessThan(d, 1e-5 * Float(s.k).squareRoot(), "\(level) \(s) z[\(i)][\(j)]")
          }
        }
        let d = maxAbsDiff(gradient, expectedGradient)
        worstGradient = max(worstGradient, d)
        XCTAssertLessThan(d, 1e-5 * Float(s.m).squareRoot(), "\(level) \(s) gradient")
      }
      print(
        "dense rows \(level) vs naive over \(shapes.count) shapes: forward max |diff| \(worstForward), "
          + "kernel gradient \(worstGradient)")
    }
  }

  /// Adam applied tile by tile inside the backward pass against the stored gradient followed by
  /// the scalar Adam definition: the same update up to the gradient's rounding (the sums are the
  /// same at a given level, so at most an ulp or two of the parameters), with and without weight
  /// decay, over several steps.
  func testAdamFusedIntoTheBackwardPassMatchesGradientThenAdam() {
    var rng = TestRandom(seed: 12)
    for level in levels {
      KernelLevel.force(level)
      var worst: Float = 0
      for s in shapes {
        for decay in [nil, 0.04] as [Double?] {
          let total = s.m + 4
          let matrix = rng.array(total * s.k)
          let picks = scatteredRows(matrix, rows: total, k: s.k, batch: s.m)
          var fused = rng.array(s.n * s.k)
          var reference = fused
          var (m, v) = ([Float](repeating: 0, count: fused.count), [Float](repeating: 0, count: fused.count))
          var state = MomentState(count: fused.count)
          for step in 1...3 {
            let dz = rng.array(s.m * s.n)
            let c = AdamCoefficients(
              step: step, learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: decay)
            var gradient = [Float](repeating: 0, count: fused.count)
            matrix.withUnsafeBufferPointer { x in
              let rows = picks.map { x.baseAddress! + $0 * s.k }
              rows.withUnsafeBufferPointer { rows in
                dz.withUnsafeBufferPointer { dz in
                  fused.withUnsafeMutableBufferPointer { w in
                    m.withUnsafeMutableBufferPointer { m in
                      v.withUnsafeMutableBufferPointer { v in
                        adamUpdateDenseRows(
                          weight: w, m: m, v: v, rows: rows, dz: dz, ldz: s.n, batch: s.m, inputs: s.k,
                          outputs: s.n, c)
                      }
                    }
                  }
                  gradient.withUnsafeMutableBufferPointer {
                    denseKernelGradientRows($0, rows: rows, dz: dz, ldz: s.n, batch: s.m, inputs: s.k, outputs: s.n)
                  }
                }
              }
            }
            gradient.withUnsafeBufferPointer { g in
              reference.withUnsafeMutableBufferPointer {
                adamUpdateReference(params: $0, grads: g, state: &state, learningRate: 0.01, weightDecay: decay)
              }
            }
          }
          let d = maxAbsDiff(fused, reference)
          worst = max(worst, d)
          XCTAssertLessThanOrEqual(d, 1e-6, "\(level) \(s) decay \(String(describing: decay))")
          XCTAssertLessThanOrEqual(maxAbsDiff(m, state.m), 1e-6)
        }
      }
      print("Adam fused into the backward pass \(level): max |parameter diff| vs gradient + scalar Adam \(worst)")
    }
  }
}
