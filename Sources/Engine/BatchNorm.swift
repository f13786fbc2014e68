// Batch normalisation at inference: folded into the preceding convolution for the fast path,
// and applied literally by the naive reference.
//
// Keras BatchNormalization at inference: y = (x - moving_mean) / sqrt(moving_variance + eps)
// * gamma + beta, per channel (the last axis, NHWC). Folding it into a convolution with HWIO
// kernel w (KH, KW, Cin, Cout) and bias b (Cout):
//   scale = gamma / sqrt(var + eps)
//   w'[..., o] = w[..., o] * scale[o]
//   b'[o]      = (b[o] - mean[o]) * scale[o] + beta[o]
// computed in float64 and rounded once, so the fold adds at most half an ulp per weight.

/// The per-channel statistics and affine parameters of one BatchNormalization layer.
public struct BatchNormParameters: Sendable {
  public var gamma: [Float]
  public var beta: [Float]
  public var movingMean: [Float]
  public var movingVariance: [Float]
  public var epsilon: Double

  public init(gamma: [Float], beta: [Float], movingMean: [Float], movingVariance: [Float], epsilon: Double) {
    let c = gamma.count
    precondition(
      beta.count == c && movingMean.count == c && movingVariance.count == c, "BN vectors differ in length")
    self.gamma = gamma
    self.beta = beta
    self.movingMean = movingMean
    self.movingVariance = movingVariance
    self.epsilon = epsilon
  }

  public var channels: Int { gamma.count }
}

/// Folds `bn` into an HWIO `kernel` (..., Cout) and its `bias` (Cout; nil means zeros).
/// Returns the folded kernel (same layout) and bias.
public func foldBatchNorm(kernel: [Float], bias: [Float]?, batchNorm bn: BatchNormParameters) -> (
  kernel: [Float], bias: [Float]
) {
  let cout = bn.channels
  precondition(kernel.count % cout == 0, "kernel does not end in \(cout) output channels")
  precondition(bias == nil || bias!.count == cout, "bias length")
  var scale = [Double](repeating: 0, count: cout)
  var folded = [Float](repeating: 0, count: cout)
  for o in 0..<cout {
    scale[o] = Double(bn.gamma[o]) / (Double(bn.movingVariance[o]) + bn.epsilon).squareRoot()
    let b = Double(bias?[o] ?? 0)
    folded[o] = Float((b - Double(bn.movingMean[o])) * scale[o] + Double(bn.beta[o]))
  }
  var w = kernel
  w.withUnsafeMutableBufferPointer { w in
    for base in stride(from: 0, to: w.count, by: cout) {
      for o in 0..<cout { w[base + o] = Float(Double(w[base + o]) * scale[o]) }
    }
  }
  return (w, folded)
}

/// Reference batch normalisation at inference, in place on x (rows, C), float64 inside.
public func batchNormInferenceNaive(
  _ x: UnsafeMutableBufferPointer<Float>, rows: Int, batchNorm bn: BatchNormParameters
) {
  let c = bn.channels
  precondition(x.count >= rows * c)
  for r in 0..<rows {
    for o in 0..<c {
      let v = Double(x[r * c + o])
      let y =
        (v - Double(bn.movingMean[o])) / (Double(bn.movingVariance[o]) + bn.epsilon).squareRoot()
        * Double(bn.gamma[o]) + Double(bn.beta[o])
      x[r * c + o] = Float(y)
    }
  }
}
