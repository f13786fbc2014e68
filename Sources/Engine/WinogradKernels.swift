// Winograd kernel transforms U = G g G^T for the tile sizes the engine runs, in float64.
//
// F(2x2, 3x3): 4x4 transformed kernels (Winograd.swift holds the transform and the BLAS path).
// F(4x4, 3x3): 6x6, points 0, 1, -1, 2, -2 and infinity (Lavin & Gray, arXiv:1509.09308):
//   G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
// 4x fewer multiplications than direct convolution (2.25x for F(2x2, 3x3)), at the price of
// transforms with coefficients up to 8 that amplify float32 rounding (Docs/performance.md
// gives the measured feature-level difference).

/// G of F(4x4, 3x3), (6, 3).
private let g4: [[Double]] = [
  [1.0 / 4, 0, 0],
  [-1.0 / 6, -1.0 / 6, -1.0 / 6],
  [-1.0 / 6, 1.0 / 6, -1.0 / 6],
  [1.0 / 24, 1.0 / 12, 1.0 / 6],
  [1.0 / 24, -1.0 / 12, 1.0 / 6],
  [0, 0, 1],
]

/// U (36, C, K) = G g G^T for every (c, k) of an HWIO kernel (3, 3, C, K); e = 6 * row + column.
public func winograd4TransformKernel(_ kernel: [Float], inChannels c: Int, outChannels k: Int) -> [Float] {
  precondition(kernel.count == 9 * c * k, "winograd4TransformKernel: kernel is not (3, 3, \(c), \(k))")
  let plane = c * k
  var u = [Float](repeating: 0, count: 36 * plane)
  var g = [Double](repeating: 0, count: 9)
  var gg = [Double](repeating: 0, count: 18)  // G g, (6, 3)
  for ck in 0..<plane {
    for i in 0..<9 { g[i] = Double(kernel[i * plane + ck]) }  // HWIO: tap (y, x) at (3y + x) * C * K
    for a in 0..<6 {
      for x in 0..<3 { gg[a * 3 + x] = g4[a][0] * g[x] + g4[a][1] * g[3 + x] + g4[a][2] * g[6 + x] }
    }
    for a in 0..<6 {
      for b in 0..<6 {
        let value = gg[a * 3] * g4[b][0] + gg[a * 3 + 1] * g4[b][1] + gg[a * 3 + 2] * g4[b][2]
        u[(a * 6 + b) * plane + ck] = Float(value)
      }
    }
  }
  return u
}
