// Per-head training losses with Keras 3 (3.15.1, TensorFlow backend) semantics.
//
// Shapes: logits / predictions / labels (B, K) row-major, rowWeights (B) or nil for all ones.
// A row with a missing label has row weight 0 (Keras' sample_weight 0).
//
// Facts checked against Keras 3.15.1 (Tests/Fixtures/make_optimizer_fixtures.py):
// * Reduction 'sum_over_batch_size' is sum(per-row loss * sample weight) / B: a row with
//   weight 0 still counts in the denominator (keras/src/losses/loss.py reduce_values divides
//   by the number of values, not the sum of weights; MSE of ones vs zeros with weights
//   [1, 1, 0, 0] is 0.5, not 1). The value is then multiplied by the head's loss weight.
// * Softmax and sigmoid outputs carry their logits (`_keras_logits`, also recognised from the
//   Softmax/Sigmoid op inside tf.function), and the TF backend's cross-entropies then use
//   tf.nn.softmax_cross_entropy_with_logits / sigmoid_cross_entropy_with_logits: NO clipping
//   to [1e-7, 1 - 1e-7] (a row with logits (40, -40, 0) and label 1 costs 80, not 16.1). So
//   the cross-entropies here take the logits and return gradients w.r.t. the logits.
// * Binary cross-entropy is the mean over the label axis; MSE the mean over outputs.
// Each forward returns loss * lossWeight; each backward ACCUMULATES (+=) that scaled loss'
// gradient. Sums are in float64 (Keras sums in float32; the difference is far below 1e-5).
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Keras' factor for row r: weight_r * lossWeight / B (masked rows stay in B).
@inline(__always)
private func rowScale(_ rowWeights: UnsafeBufferPointer<Float>?, _ r: Int, _ lossWeight: Float, _ batch: Int)
  -> Float
{
  (rowWeights?[r] ?? 1) * lossWeight / Float(batch)
}

/// Mean squared error of predictions (B, K) against labels (B, K): per row mean over K of
/// (p - t)^2, then Keras' batch reduction, times lossWeight. Takes the head's OUTPUT (after
/// tanh, say); chain `tanhBackward` onto the gradient.
public func meanSquaredErrorForward(
  predictions: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Float>,
  rowWeights: UnsafeBufferPointer<Float>?, lossWeight: Float, batch: Int, width: Int
) -> Float {
  var total = 0.0
  for r in 0..<batch {
    var s = 0.0
    for j in 0..<width {
      let d = Double(predictions[r * width + j]) - Double(labels[r * width + j])
      s += d * d
    }
    total += s / Double(width) * Double(rowWeights?[r] ?? 1)
  }
  return Float(total / Double(batch)) * lossWeight
}

/// dPredictions (B, K) += 2 (p - t) / K * weight_r * lossWeight / B.
public func meanSquaredErrorBackward(
  _ dPredictions: UnsafeMutableBufferPointer<Float>,
  predictions: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Float>,
  rowWeights: UnsafeBufferPointer<Float>?, lossWeight: Float, batch: Int, width: Int
) {
  for r in 0..<batch {
    let c = 2 * rowScale(rowWeights, r, lossWeight, batch) / Float(width)
    for j in 0..<width {
      let i = r * width + j
      dPredictions[i] += c * (predictions[i] - labels[i])
    }
  }
}

/// Categorical cross-entropy of a softmax head from its logits (B, K) and one-hot (or soft)
/// labels (B, K): per row sum_k t_k (logsumexp(z) - z_k), batch-reduced, times lossWeight.
public func categoricalCrossEntropyForward(
  logits: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Float>,
  rowWeights: UnsafeBufferPointer<Float>?, lossWeight: Float, batch: Int, classes: Int
) -> Float {
  var total = 0.0
  for r in 0..<batch {
    let o = r * classes
    var m = -Double.infinity
    for j in 0..<classes { m = max(m, Double(logits[o + j])) }
    var s = 0.0
    for j in 0..<classes { s += exp(Double(logits[o + j]) - m) }
    let lse = m + log(s)
    var row = 0.0
    for j in 0..<classes { row += Double(labels[o + j]) * (lse - Double(logits[o + j])) }
    total += row * Double(rowWeights?[r] ?? 1)
  }
  return Float(total / Double(batch)) * lossWeight
}

/// dLogits (B, K) += (softmax(z) * sum_k t_k - t) * weight_r * lossWeight / B, given the
/// probabilities softmax(z) (B, K) that `softmaxForward` produced.
public func categoricalCrossEntropyBackward(
  _ dLogits: UnsafeMutableBufferPointer<Float>,
  probabilities: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Float>,
  rowWeights: UnsafeBufferPointer<Float>?, lossWeight: Float, batch: Int, classes: Int
) {
  for r in 0..<batch {
    let o = r * classes
    let c = rowScale(rowWeights, r, lossWeight, batch)
    var labelSum: Float = 0
    for j in 0..<classes { labelSum += labels[o + j] }
    for j in 0..<classes { dLogits[o + j] += c * (probabilities[o + j] * labelSum - labels[o + j]) }
  }
}

/// Binary cross-entropy of a sigmoid multi-label head from its logits (B, K) and 0/1 labels
/// (B, K), as tf.nn.sigmoid_cross_entropy_with_logits: max(z, 0) - z t + log(1 + exp(-|z|)),
/// mean over the K labels, batch-reduced, times lossWeight.
public func binaryCrossEntropyForward(
  logits: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Float>,
  rowWeights: UnsafeBufferPointer<Float>?, lossWeight: Float, batch: Int, labelCount: Int
) -> Float {
  var total = 0.0
  for r in 0..<batch {
    var row = 0.0
    for j in 0..<labelCount {
      let z = Double(logits[r * labelCount + j])
      let t = Double(labels[r * labelCount + j])
      row += max(z, 0) - z * t + log1p(exp(-abs(z)))
    }
    total += row / Double(labelCount) * Double(rowWeights?[r] ?? 1)
  }
  return Float(total / Double(batch)) * lossWeight
}

/// dLogits (B, K) += (sigmoid(z) - t) / K * weight_r * lossWeight / B.
public func binaryCrossEntropyBackward(
  _ dLogits: UnsafeMutableBufferPointer<Float>,
  logits: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Float>,
  rowWeights: UnsafeBufferPointer<Float>?, lossWeight: Float, batch: Int, labelCount: Int
) {
  for r in 0..<batch {
    let c = rowScale(rowWeights, r, lossWeight, batch) / Float(labelCount)
    for j in 0..<labelCount {
      let i = r * labelCount + j
      dLogits[i] += c * (sigmoid(logits[i]) - labels[i])
    }
  }
}
