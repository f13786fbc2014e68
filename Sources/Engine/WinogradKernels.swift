// Winograd kernel transforms U = G g G^T for the tile sizes the engine runs, in float64.
//
// F(2x2, 3x3): 4x4 transformed kernels (Winograd.swift holds the transform and the BLAS path).
// F(4x4, 3x3): 6x6, points 0, 1, -1, 2, -2 and infinity (Lavin & Gray, arXiv:1509.09308):
//   G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
// 4x fewer multiplications than direct convolution (2.25x for F(2x2, 3x3)), at the price of
// transforms with coefficients up to 8 that amplify float32 rounding (Docs/performance.md
// gives the measured feature-level difference).

/// G of F(4x4, 3x3), (6, 3), row-major.
private let g4: [Double] = [
  1.0 / 4, 0, 0,
  -1.0 / 6, -1.0 / 6, -1.0 / 6,
  -1.0 / 6, 1.0 / 6, -1.0 / 6,
  1.0 / 24, 1.0 / 12, 1.0 / 6,
  1.0 / 24, -1.0 / 12, 1.0 / 6,
  0, 0, 1,
]

/// U (36, C, K) = G g G^T for every (c, k) of an HWIO kernel (3, 3, C, K); e = 6 * row + column.
/// Runs once per layer at load, but over millions of (c, k) pairs (VGG19: 20M weights), so the
/// loops work on raw pointers and write every element once (no zero fill).
public func winograd4TransformKernel(_ kernel: [Float], inChannels c: Int, outChannels k: Int) -> [Float] {
  precondition(kernel.count == 9 * c * k, "winograd4TransformKernel: kernel is not (3, 3, \(c), \(k))")
  return [Float](unsafeUninitializedCapacity: 36 * c * k) { u, count in
    kernel.withUnsafeBufferPointer {
      winograd4TransformKernel($0.baseAddress!, inChannels: c, outChannels: k, channels: 0..<c, into: u.baseAddress!)
    }
    count = 36 * c * k
  }
}

/// U (36, rows, K) for the input channels `channels` (rows of them) of an HWIO kernel `w`
/// (3, 3, C, K), written to `out`: the same values as the whole transform's rows.
func winograd4TransformKernel(
  _ w: UnsafePointer<Float>, inChannels c: Int, outChannels k: Int, channels: Range<Int>,
  into out: UnsafeMutablePointer<Float>
) {
  let plane = c * k  // between the taps of w
  let first = channels.lowerBound * k
  let outPlane = channels.count * k  // between the elements of out
  g4.withUnsafeBufferPointer { gp in
    let g = gp.baseAddress!
    // Split over the cores: each (c, k) pair is independent, and a slice writes only its own.
    parallelSlices(outPlane, parts: computeThreads()) { _, slice in
      let pairs = (first + slice.lowerBound)..<(first + slice.upperBound)
      var ck = pairs.lowerBound
      // Eight (c, k) pairs at a time, lane by lane the same float64 arithmetic as the scalar
      // loop below (so the same bits), with contiguous loads and stores.
      withUnsafeTemporaryAllocation(of: SIMD8<Double>.self, capacity: 18) { tv in  // G g, (6, 3)
        while ck + 8 <= pairs.upperBound {
          for x in 0..<3 {
            let g0 = SIMD8<Double>(UnsafeRawPointer(w + x * plane + ck).loadUnaligned(as: SIMD8<Float>.self))
            let g1 = SIMD8<Double>(UnsafeRawPointer(w + (3 + x) * plane + ck).loadUnaligned(as: SIMD8<Float>.self))
            let g2 = SIMD8<Double>(UnsafeRawPointer(w + (6 + x) * plane + ck).loadUnaligned(as: SIMD8<Float>.self))
            for a in 0..<6 { tv[a * 3 + x] = g[a * 3] * g0 + g[a * 3 + 1] * g1 + g[a * 3 + 2] * g2 }
          }
          for a in 0..<6 {
            for b in 0..<6 {
              let value = tv[a * 3] * g[b * 3] + tv[a * 3 + 1] * g[b * 3 + 1] + tv[a * 3 + 2] * g[b * 3 + 2]
              UnsafeMutableRawPointer(out + (a * 6 + b) * outPlane + ck - first).storeBytes(
                of: SIMD8<Float>(value), as: SIMD8<Float>.self)
            }
          }
          ck += 8
        }
      }
      var gg = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
      withUnsafeMutableBytes(of: &gg) { raw in
        let t = raw.baseAddress!.assumingMemoryBound(to: Double.self)  // G g, (6, 3)
        for ck in ck..<pairs.upperBound {
          // HWIO: tap (y, x) at (3y + x) * C * K.
          for x in 0..<3 {
            let g0 = Double(w[x * plane + ck])
            let g1 = Double(w[(3 + x) * plane + ck])
            let g2 = Double(w[(6 + x) * plane + ck])
            for a in 0..<6 { t[a * 3 + x] = g[a * 3] * g0 + g[a * 3 + 1] * g1 + g[a * 3 + 2] * g2 }
          }
          for a in 0..<6 {
            for b in 0..<6 {
              let value = t[a * 3] * g[b * 3] + t[a * 3 + 1] * g[b * 3 + 1] + t[a * 3 + 2] * g[b * 3 + 2]
              out[(a * 6 + b) * outPlane + ck - first] = Float(value)
            }
          }
        }
      }
    }
  }
}
