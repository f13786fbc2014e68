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
