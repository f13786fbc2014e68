// Element-wise kernels, forward and backward (below): ReLU, residual add, and L2 normalisation
// of feature rows.
// Fast paths are fused into the convolution epilogue; these stand alone for the references
// and for layers that are not preceded by a convolution.

/// x = max(x, 0), in place.
public func reluInPlace(_ x: UnsafeMutableBufferPointer<Float>) {
  let p = x.baseAddress!
  for i in 0..<x.count { p[i] = max(p[i], 0) }
}

/// x += y, in place (Keras Add of two tensors of equal shape).
public func addInPlace(_ x: UnsafeMutableBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) {
  precondition(y.count >= x.count)
  let p = x.baseAddress!
  let q = y.baseAddress!
  for i in 0..<x.count { p[i] += q[i] }
}

/// Normalises each row of x (rows, D) to unit L2 norm in place, with the semantics of
/// tf.math.l2_normalize(x, axis=-1, epsilon=1e-12): x * rsqrt(max(sum(x^2), 1e-12)), so an
/// all-zero row stays zero instead of becoming NaN. The sum of squares is taken in float64.
public func l2NormalizeRows(_ x: UnsafeMutableBufferPointer<Float>, rows: Int, width d: Int) {
  precondition(x.count >= rows * d)
  let base = x.baseAddress!
  for r in 0..<rows {
    let p = base + r * d
    var sum = 0.0
    for j in 0..<d { sum += Double(p[j]) * Double(p[j]) }
    let inv = Float(1 / max(sum, 1e-12).squareRoot())
    for j in 0..<d { p[j] *= inv }
  }
}

// MARK: - Backward
//
// Backward passes of the element-wise kernels in Elementwise.swift: residual add and L2
// normalisation of feature rows. (ReLU's backward, from the output, is in Activations.swift.)
// Backward passes ACCUMULATE (+=).

/// The adjoint of `addInPlace` (y = a + b): dA += dy and dB += dy. Either may be nil when
/// that operand is not trained through.
public func addBackward(
  dA: UnsafeMutableBufferPointer<Float>?, dB: UnsafeMutableBufferPointer<Float>?,
  _ dy: UnsafeBufferPointer<Float>
) {
  let g = dy.baseAddress!
  for d in [dA, dB] {
    guard let d else { continue }
    precondition(d.count >= dy.count, "addBackward: gradient buffer too small")
    let p = d.baseAddress!
    for i in 0..<dy.count { p[i] += g[i] }
  }
}

/// Accumulates into dx (rows, D) the gradient of `l2NormalizeRows` (y = x / sqrt(max(|x|^2,
/// 1e-12)), tf.math.l2_normalize) from dy (rows, D), given the forward's INPUT x (rows, D):
/// dx += (dy - y (y . dy)) / |x| for a row whose squared norm exceeds the epsilon; below it the
/// norm is the constant 1e-6 (TF's maximum sends no gradient to the clamped sum), so
/// dx += dy * 1e6. Sums in float64, as the forward.
public func l2NormalizeRowsBackward(
  _ dx: UnsafeMutableBufferPointer<Float>, _ dy: UnsafeBufferPointer<Float>,
  x: UnsafeBufferPointer<Float>, rows: Int, width d: Int
) {
  precondition(dx.count >= rows * d && dy.count >= rows * d && x.count >= rows * d)
  for r in 0..<rows {
    let o = r * d
    var sum = 0.0
    for j in 0..<d { sum += Double(x[o + j]) * Double(x[o + j]) }
    let inv = 1 / max(sum, 1e-12).squareRoot()
    if sum <= 1e-12 {
      let s = Float(inv)
      for j in 0..<d { dx[o + j] += dy[o + j] * s }
      continue
    }
    // y . dy = (x . dy) / |x|
    var dot = 0.0
    for j in 0..<d { dot += Double(x[o + j]) * Double(dy[o + j]) }
    let a = Float(inv)
    let b = Float(dot * inv * inv * inv)
    for j in 0..<d { dx[o + j] += a * dy[o + j] - b * x[o + j] }
  }
}
