// Dense (fully connected) layer for training heads: forward, backward, and naive references.
//
// Row-major throughout: x (B, in), kernel W (in, out) in Keras' layout, bias b (out),
// y (B, out). Backward passes ACCUMULATE into their gradient buffers (+=), so gradients of
// parameters shared by several heads, or of an input feeding several layers, simply add up;
// the caller zeroes them once per step.

/// y (B, out) = x (B, in) · W (in, out) + b (out), one GEMM.
public func denseForward(
  _ y: UnsafeMutableBufferPointer<Float>,
  _ x: UnsafeBufferPointer<Float>,
  weight: UnsafeBufferPointer<Float>,
  bias: UnsafeBufferPointer<Float>?,
  batch: Int, inFeatures: Int, outFeatures: Int
) {
  precondition(y.count >= batch * outFeatures && x.count >= batch * inFeatures)
  precondition(weight.count >= inFeatures * outFeatures && (bias?.count ?? outFeatures) >= outFeatures)
  let out = y.baseAddress!
  // Seed every row with the bias so the GEMM adds onto it (beta 1) in the same pass.
  for r in 0..<batch {
    for j in 0..<outFeatures { out[r * outFeatures + j] = bias?[j] ?? 0 }
  }
  gemm(out, x.baseAddress!, weight.baseAddress!, m: batch, n: outFeatures, k: inFeatures, beta: 1)
}

/// Accumulates the gradients of a dense layer from dy (B, out):
/// dW (in, out) += x^T dy, db (out) += sum over rows of dy, dx (B, in) += dy W^T.
/// `dx` may be nil for the first layer (its input is the fixed feature matrix, and skipping
/// it saves the largest GEMM when `in` is ~15k); `dBias` is nil when the layer has no bias.
public func denseBackward(
  dx: UnsafeMutableBufferPointer<Float>?,
  dWeight: UnsafeMutableBufferPointer<Float>,
  dBias: UnsafeMutableBufferPointer<Float>?,
  dy: UnsafeBufferPointer<Float>,
  x: UnsafeBufferPointer<Float>,
  weight: UnsafeBufferPointer<Float>,
  batch: Int, inFeatures: Int, outFeatures: Int
) {
  precondition(dy.count >= batch * outFeatures && x.count >= batch * inFeatures)
  precondition(dWeight.count >= inFeatures * outFeatures && weight.count >= inFeatures * outFeatures)
  let g = dy.baseAddress!
  // dW (in, out) += x^T (in, B) · dy (B, out)
  gemm(
    dWeight.baseAddress!, x.baseAddress!, g, m: inFeatures, n: outFeatures, k: batch,
    transA: true, transB: false, beta: 1)
  if let dBias {
    precondition(dBias.count >= outFeatures)
    for r in 0..<batch {
      for j in 0..<outFeatures { dBias[j] += g[r * outFeatures + j] }
    }
  }
  if let dx {
    precondition(dx.count >= batch * inFeatures)
    // dx (B, in) += dy (B, out) · W^T (out, in)
    gemm(
      dx.baseAddress!, g, weight.baseAddress!, m: batch, n: inFeatures, k: outFeatures,
      transA: false, transB: true, beta: 1)
  }
}

/// The definition of `denseForward`, with float64 sums; the reference for tests.
public func denseForwardNaive(
  _ y: UnsafeMutableBufferPointer<Float>,
  _ x: UnsafeBufferPointer<Float>,
  weight: UnsafeBufferPointer<Float>,
  bias: UnsafeBufferPointer<Float>?,
  batch: Int, inFeatures: Int, outFeatures: Int
) {
  for r in 0..<batch {
    for j in 0..<outFeatures {
      var s = Double(bias?[j] ?? 0)
      for i in 0..<inFeatures { s += Double(x[r * inFeatures + i]) * Double(weight[i * outFeatures + j]) }
      y[r * outFeatures + j] = Float(s)
    }
  }
}

/// The definition of `denseBackward`, with float64 sums; the reference for tests.
public func denseBackwardNaive(
  dx: UnsafeMutableBufferPointer<Float>?,
  dWeight: UnsafeMutableBufferPointer<Float>,
  dBias: UnsafeMutableBufferPointer<Float>?,
  dy: UnsafeBufferPointer<Float>,
  x: UnsafeBufferPointer<Float>,
  weight: UnsafeBufferPointer<Float>,
  batch: Int, inFeatures: Int, outFeatures: Int
) {
  for i in 0..<inFeatures {
    for j in 0..<outFeatures {
      var s = 0.0
      for r in 0..<batch { s += Double(x[r * inFeatures + i]) * Double(dy[r * outFeatures + j]) }
      dWeight[i * outFeatures + j] += Float(s)
    }
  }
  if let dBias {
    for j in 0..<outFeatures {
      var s = 0.0
      for r in 0..<batch { s += Double(dy[r * outFeatures + j]) }
      dBias[j] += Float(s)
    }
  }
  if let dx {
    for r in 0..<batch {
      for i in 0..<inFeatures {
        var s = 0.0
        for j in 0..<outFeatures {
          s += Double(dy[r * outFeatures + j]) * Double(weight[i * outFeatures + j])
        }
        dx[r * inFeatures + i] += Float(s)
      }
    }
  }
}
