// Batch normalisation at inference (folded into the preceding convolution for the fast path,
// and applied literally by the naive reference), and for training below.
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

// MARK: - Backward
//
// Batch normalisation for training: forward and backward in Keras' two modes, on x (rows, C)
// with the channel last (NHWC flattened: rows = N * H * W).
//
// Frozen statistics (Keras `training=False`, or a layer with trainable=False; what Keras
// recommends when fine-tuning): y = (x - moving_mean) * s * gamma + beta with
// s = 1 / sqrt(moving_variance + eps). y is affine in x, so
//   dx += dy * gamma * s,   dgamma += sum dy * (x - mean) * s,   dbeta += sum dy.
//
// Training mode (Keras 3 BatchNormalization.call with training=True): the batch's own mean and
// biased variance (ops.moments: divide by M = rows, no Bessel correction), with xhat =
// (x - mean) * s, s = 1 / sqrt(var + eps), y = xhat * gamma + beta. The full gradient, since
// mean and var depend on every row:
//   dbeta += sum dy,   dgamma += sum dy * xhat,
//   dx += gamma * s / M * (M * dy - sum dy - xhat * sum(dy * xhat))
// and the moving statistics move as moving = moving * momentum + batch * (1 - momentum), with
// the biased batch variance (Keras 3; momentum 0.99 by default and in ResNet50, whose layers
// use epsilon 1.001e-5). Per-channel sums are in float64; the saved statistics are what
// backward needs, together with the layer's input x.
//
// Backward passes ACCUMULATE (+=) into dx, dGamma and dBeta.

/// The batch statistics of one training-mode forward pass, kept for its backward pass.
public struct BatchNormBatchStatistics: Sendable {
  /// Per-channel batch mean (C).
  public var mean: [Float]
  /// Per-channel 1 / sqrt(biased batch variance + epsilon) (C).
  public var inverseStd: [Float]
  /// Per-channel biased batch variance (C), as it entered the moving average.
  public var variance: [Float]

  public init(channels: Int) {
    mean = [Float](repeating: 0, count: channels)
    inverseStd = [Float](repeating: 0, count: channels)
    variance = [Float](repeating: 0, count: channels)
  }
}

/// y (rows, C) = batch norm of x (rows, C) with the frozen moving statistics of `bn`. y may
/// alias x. The same function as `batchNormInferenceNaive`, out of place and in float32.
public func batchNormFrozenForward(
  _ y: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, rows: Int,
  batchNorm bn: BatchNormParameters
) {
  let c = bn.channels
  precondition(x.count >= rows * c && y.count >= rows * c, "batchNormFrozenForward: buffers too small")
  var scale = [Float](repeating: 0, count: c)
  var shift = [Float](repeating: 0, count: c)
  for o in 0..<c {
    let s = 1 / (Double(bn.movingVariance[o]) + bn.epsilon).squareRoot() * Double(bn.gamma[o])
    scale[o] = Float(s)
    shift[o] = Float(Double(bn.beta[o]) - Double(bn.movingMean[o]) * s)
  }
  scale.withUnsafeBufferPointer { scale in
    shift.withUnsafeBufferPointer { shift in
      parallelSlices(rows, parts: elementwiseParts(rows * c)) { _, range in
        for r in range {
          for o in 0..<c { y[r * c + o] = x[r * c + o] * scale[o] + shift[o] }
        }
      }
    }
  }
}

/// Accumulates the gradients of `batchNormFrozenForward` from dy (rows, C): dx (rows, C, nil
/// to skip), dGamma (C), dBeta (C). x is the layer's input (rows, C).
public func batchNormFrozenBackward(
  dx: UnsafeMutableBufferPointer<Float>?,
  dGamma: UnsafeMutableBufferPointer<Float>,
  dBeta: UnsafeMutableBufferPointer<Float>,
  dy: UnsafeBufferPointer<Float>,
  x: UnsafeBufferPointer<Float>,
  rows: Int,
  batchNorm bn: BatchNormParameters
) {
  let c = bn.channels
  precondition(dy.count >= rows * c && x.count >= rows * c, "batchNormFrozenBackward: buffers too small")
  precondition(dGamma.count == c && dBeta.count == c, "batchNormFrozenBackward: dGamma/dBeta length")
  precondition(dx == nil || dx!.count >= rows * c, "batchNormFrozenBackward: dx too small")
  var invStd = [Double](repeating: 0, count: c)
  var mean = [Double](repeating: 0, count: c)
  var dxScale = [Float](repeating: 0, count: c)
  for o in 0..<c {
    invStd[o] = 1 / (Double(bn.movingVariance[o]) + bn.epsilon).squareRoot()
    mean[o] = Double(bn.movingMean[o])
    dxScale[o] = Float(invStd[o] * Double(bn.gamma[o]))
  }
  // Threads take channels, so each channel's sums run over the rows in order whatever the split.
  let parts = elementwiseParts(rows * c)
  var sums = [Double](repeating: 0, count: 2 * c)  // sum of dy, then of dy * xhat
  sums.withUnsafeMutableBufferPointer { sums in
    invStd.withUnsafeBufferPointer { invStd in
      mean.withUnsafeBufferPointer { mean in
        parallelSlices(c, parts: parts) { _, channels in
          for r in 0..<rows {
            for o in channels {
              let g = Double(dy[r * c + o])
              sums[o] += g
              sums[c + o] += g * (Double(x[r * c + o]) - mean[o]) * invStd[o]
            }
          }
        }
      }
    }
  }
  for o in 0..<c {
    dGamma[o] += Float(sums[c + o])
    dBeta[o] += Float(sums[o])
  }
  guard let dx else { return }
  dxScale.withUnsafeBufferPointer { dxScale in
    parallelSlices(rows, parts: parts) { _, range in
      for r in range {
        for o in 0..<c { dx[r * c + o] += dy[r * c + o] * dxScale[o] }
      }
    }
  }
}

/// Training-mode batch norm: y (rows, C) from x (rows, C) normalised with the batch's own
/// statistics (saved in `statistics` for the backward pass), and `bn`'s moving mean and
/// variance updated with `momentum` as Keras does (0.99 is Keras' default). y may alias x.
public func batchNormTrainingForward(
  _ y: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, rows: Int,
  batchNorm bn: inout BatchNormParameters, momentum: Float,
  statistics: inout BatchNormBatchStatistics
) {
  let c = bn.channels
  precondition(rows > 0, "batchNormTrainingForward: empty batch")
  precondition(x.count >= rows * c && y.count >= rows * c, "batchNormTrainingForward: buffers too small")
  precondition(statistics.mean.count == c, "batchNormTrainingForward: statistics for another width")
  var sum = [Double](repeating: 0, count: c)
  for r in 0..<rows {
    for o in 0..<c { sum[o] += Double(x[r * c + o]) }
  }
  let m = Double(rows)
  for o in 0..<c { sum[o] /= m }
  // Two passes (mean, then squared deviations) rather than E[x^2] - E[x]^2, which cancels
  // badly when |mean| >> std, as after a ReLU.
  var squares = [Double](repeating: 0, count: c)
  for r in 0..<rows {
    for o in 0..<c {
      let d = Double(x[r * c + o]) - sum[o]
      squares[o] += d * d
    }
  }
  var scale = [Float](repeating: 0, count: c)
  var shift = [Float](repeating: 0, count: c)
  for o in 0..<c {
    let variance = squares[o] / m
    let inv = 1 / (variance + bn.epsilon).squareRoot()
    statistics.mean[o] = Float(sum[o])
    statistics.variance[o] = Float(variance)
    statistics.inverseStd[o] = Float(inv)
    scale[o] = Float(inv * Double(bn.gamma[o]))
    shift[o] = Float(Double(bn.beta[o]) - sum[o] * inv * Double(bn.gamma[o]))
    // Keras' update, in float32 as Keras computes it.
    bn.movingMean[o] = bn.movingMean[o] * momentum + statistics.mean[o] * (1 - momentum)
    bn.movingVariance[o] = bn.movingVariance[o] * momentum + statistics.variance[o] * (1 - momentum)
  }
  for r in 0..<rows {
    for o in 0..<c { y[r * c + o] = x[r * c + o] * scale[o] + shift[o] }
  }
}

/// Accumulates the gradients of `batchNormTrainingForward` from dy (rows, C): the full
/// formula through the batch mean and variance. x (rows, C) is the forward's input,
/// `statistics` what it saved, `gamma` (C) the scale it used.
public func batchNormTrainingBackward(
  dx: UnsafeMutableBufferPointer<Float>?,
  dGamma: UnsafeMutableBufferPointer<Float>,
  dBeta: UnsafeMutableBufferPointer<Float>,
  dy: UnsafeBufferPointer<Float>,
  x: UnsafeBufferPointer<Float>,
  rows: Int,
  gamma: UnsafeBufferPointer<Float>,
  statistics: BatchNormBatchStatistics
) {
  let c = gamma.count
  precondition(dy.count >= rows * c && x.count >= rows * c, "batchNormTrainingBackward: buffers too small")
  precondition(dGamma.count == c && dBeta.count == c, "batchNormTrainingBackward: dGamma/dBeta length")
  precondition(statistics.mean.count == c, "batchNormTrainingBackward: statistics for another width")
  precondition(dx == nil || dx!.count >= rows * c, "batchNormTrainingBackward: dx too small")
  var sumDy = [Double](repeating: 0, count: c)
  var sumDyXhat = [Double](repeating: 0, count: c)
  for r in 0..<rows {
    for o in 0..<c {
      let g = Double(dy[r * c + o])
      sumDy[o] += g
      sumDyXhat[o] +=
        g * (Double(x[r * c + o]) - Double(statistics.mean[o])) * Double(statistics.inverseStd[o])
    }
  }
  for o in 0..<c {
    dGamma[o] += Float(sumDyXhat[o])
    dBeta[o] += Float(sumDy[o])
  }
  guard let dx else { return }
  // dx = gamma s (dy - mean(dy) - xhat mean(dy xhat)), per channel.
  let m = Double(rows)
  var k = [Float](repeating: 0, count: c)
  var meanDy = [Float](repeating: 0, count: c)
  var meanDyXhat = [Float](repeating: 0, count: c)
  for o in 0..<c {
    k[o] = Float(Double(gamma[o]) * Double(statistics.inverseStd[o]))
    meanDy[o] = Float(sumDy[o] / m)
    meanDyXhat[o] = Float(sumDyXhat[o] / m)
  }
  for r in 0..<rows {
    for o in 0..<c {
      let i = r * c + o
      let xhat = (x[i] - statistics.mean[o]) * statistics.inverseStd[o]
      dx[i] += k[o] * (dy[i] - meanDy[o] - xhat * meanDyXhat[o])
    }
  }
}
