// Element-wise kernels: ReLU, residual add, and L2 normalisation of feature rows.
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
