// Activations for training heads, forward and backward, on flat buffers of `count` floats
// (softmax: rows of `width`). Backward passes take what forward produced (the output y) and
// ACCUMULATE into dx (+=).
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// y = max(x, 0). y may alias x.
public func reluForward(_ y: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>) {
  precondition(y.count >= x.count)
  for i in 0..<x.count { y[i] = max(x[i], 0) }
}

/// dx += dy where y > 0. TensorFlow's ReluGrad passes the gradient where the input is > 0,
/// which is where the output is > 0, so the output is enough (the gradient at 0 is 0).
public func reluBackward(
  _ dx: UnsafeMutableBufferPointer<Float>, _ dy: UnsafeBufferPointer<Float>, y: UnsafeBufferPointer<Float>
) {
  precondition(dx.count >= dy.count && y.count >= dy.count)
  parallelSlices(dy.count, parts: elementwiseParts(dy.count)) { _, range in
    for i in range where y[i] > 0 { dx[i] += dy[i] }
  }
}

/// y = tanh(x). y may alias x.
public func tanhForward(_ y: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>) {
  precondition(y.count >= x.count)
  for i in 0..<x.count { y[i] = tanhf(x[i]) }
}

/// dx += dy * (1 - y^2), y = tanh(x).
public func tanhBackward(
  _ dx: UnsafeMutableBufferPointer<Float>, _ dy: UnsafeBufferPointer<Float>, y: UnsafeBufferPointer<Float>
) {
  precondition(dx.count >= dy.count && y.count >= dy.count)
  for i in 0..<dy.count { dx[i] += dy[i] * (1 - y[i] * y[i]) }
}

/// The logistic sigmoid of one value, without overflow for large |x|.
@inline(__always)
func sigmoid(_ x: Float) -> Float {
  if x >= 0 { return 1 / (1 + expf(-x)) }
  let e = expf(x)
  return e / (1 + e)
}

/// y = 1 / (1 + exp(-x)). y may alias x. The binary cross-entropy takes the logits, so this
/// is only needed for predictions.
public func sigmoidForward(_ y: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>) {
  precondition(y.count >= x.count)
  for i in 0..<x.count { y[i] = sigmoid(x[i]) }
}

/// Row-wise softmax of x (rows, width) into y (rows, width), subtracting each row's maximum
/// first so exp never overflows. y may alias x.
public func softmaxForward(
  _ y: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, rows: Int, width: Int
) {
  precondition(y.count >= rows * width && x.count >= rows * width)
  for r in 0..<rows {
    let o = r * width
    var m = -Float.infinity
    for j in 0..<width { m = max(m, x[o + j]) }
    var s: Float = 0
    for j in 0..<width {
      let e = expf(x[o + j] - m)
      y[o + j] = e
      s += e
    }
    for j in 0..<width { y[o + j] /= s }
  }
}

/// Inverted dropout as Keras applies it in training: y = x * keep / (1 - rate), where `keep`
/// (same count as x) holds 1 for kept and 0 for dropped units, drawn by the caller (Keras'
/// random stream cannot be reproduced, so parity tests pass an all-ones mask or rate 0).
public func dropoutForward(
  _ y: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>,
  keep: UnsafeBufferPointer<Float>, rate: Float
) {
  precondition(y.count >= x.count && keep.count >= x.count && rate >= 0 && rate < 1)
  let scale = 1 / (1 - rate)
  for i in 0..<x.count { y[i] = x[i] * keep[i] * scale }
}

/// dx += dy * keep / (1 - rate).
public func dropoutBackward(
  _ dx: UnsafeMutableBufferPointer<Float>, _ dy: UnsafeBufferPointer<Float>,
  keep: UnsafeBufferPointer<Float>, rate: Float
) {
  precondition(dx.count >= dy.count && keep.count >= dy.count && rate >= 0 && rate < 1)
  let scale = 1 / (1 - rate)
  for i in 0..<dy.count { dx[i] += dy[i] * keep[i] * scale }
}
