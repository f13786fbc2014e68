// Winograd F(2x2, 3x3) for 3x3 stride-1 layers: which layers qualify, and the kernel transform.
// The convolution itself runs in InferenceConvolution.swift on the CKernels transforms.
//
// Andrew Lavin, Scott Gray: "Fast Algorithms for Convolutional Neural Networks", CVPR 2016
// (arXiv:1509.09308). Each 2x2 block of outputs ("tile") is computed from a 4x4 input patch
// with 16 multiplies per (input channel, output channel) instead of 36, so the GEMM work of a
// 3x3 convolution drops 2.25x. With the patch d (4x4), kernel g (3x3):
//   Y = A^T [ (G g G^T) .* (B^T d B) ] A
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]
// The input and output transforms use only additions, so F(2x2, 3x3) loses little accuracy;
// F(4x4, 3x3) (the default for inference) rounds about 4x more inside a layer, yet both keep
// the pooled, normalised features within 7e-7 of Keras' (Docs/performance.md).
//
// input (N, H, W, C) NHWC, kernel (3, 3, C, K) HWIO, output (N, OH, OW, K). The 16 products
// are 16 GEMMs: M[e] (T, K) = V[e] (T, C) x U[e] (C, K), T = tiles, e = 4 * row + column of
// the transformed 4x4 patch. Transformed kernel U is (16, C, K), made once per layer.
// WinogradKernels.swift has F(4x4, 3x3)'s transform.

/// Whether `shape` can run through Winograd F(2x2, 3x3): a 3x3 window with stride 1.
public func winogradApplies(_ shape: ConvShape) -> Bool {
  shape.window.height == 3 && shape.window.width == 3 && shape.window.strideHeight == 1
    && shape.window.strideWidth == 1
}

/// U (16, C, K) = G g G^T for every (c, k) of an HWIO kernel (3, 3, C, K); float64 inside.
public func winogradTransformKernel(_ kernel: [Float], inChannels c: Int, outChannels k: Int) -> [Float] {
  precondition(kernel.count == 9 * c * k, "winogradTransformKernel: kernel is not (3, 3, \(c), \(k))")
  var u = [Float](repeating: 0, count: 16 * c * k)
  let plane = c * k
  kernel.withUnsafeBufferPointer { kp in
    u.withUnsafeMutableBufferPointer { up in
      let w = kp.baseAddress!
      let out = up.baseAddress!
      @inline(__always) func tap(_ i: Int, _ ck: Int) -> Double { Double(w[i * plane + ck]) }
      for ck in 0..<plane {
        // g (3x3) for this (c, k): HWIO puts tap (y, x) at (y * 3 + x) * C * K. Each pass
        // combines three values as G does: (v0, (v0 + v1 + v2) / 2, (v0 - v1 + v2) / 2, v2).
        for a in 0..<4 {
          // Row a of G g, one value per kernel column x.
          var row = (0.0, 0.0, 0.0)
          for x in 0..<3 {
            let g0 = tap(x, ck)
            let g1 = tap(3 + x, ck)
            let g2 = tap(6 + x, ck)
            let v: Double
            switch a {
            case 0: v = g0
            case 1: v = 0.5 * (g0 + g1 + g2)
            case 2: v = 0.5 * (g0 - g1 + g2)
            default: v = g2
            }
            if x == 0 { row.0 = v } else if x == 1 { row.1 = v } else { row.2 = v }
          }
          // Row a of (G g) G^T.
          out[(a * 4 + 0) * plane + ck] = Float(row.0)
          out[(a * 4 + 1) * plane + ck] = Float(0.5 * (row.0 + row.1 + row.2))
          out[(a * 4 + 2) * plane + ck] = Float(0.5 * (row.0 - row.1 + row.2))
          out[(a * 4 + 3) * plane + ck] = Float(row.2)
        }
      }
    }
  }
  return u
}
