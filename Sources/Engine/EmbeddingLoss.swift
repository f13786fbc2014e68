// The colour-wheel embedding loss: a prototype (nearest-class-vector) classifier whose targets
// are smoothed along the wheel, so classes that are neighbours on the wheel share probability.
//
// Shapes: predictions p (B, E) row-major, class vectors v (C, E) row-major (class c's vector is
// row c, classes in wheel order), labels (B) wheel indices with -1 missing, rowWeights (B).
//
// Per row with label y: logits z_c = -|p - v_c|^2, q = softmax(z), targets
// t_c ∝ exp(-w(y, c)^2 / (2 sigma^2)) with w the circular distance in steps (0 ... C/2), and
// loss = sum_c t_c (logsumexp(z) - z_c), the cross-entropy of q against t. Batch reduction as
// Keras' 'sum_over_batch_size': sum(weight_r * loss_r) / B, missing rows still counted in B.
// sigma is the head's `wheelSigma` (default 0.5; Docs/heads.md has the measurements behind it).
//
// Why this loss: the softmax over negative squared distances makes "predict the nearest class
// vector" the decision rule the loss trains for, and moves the class vectors together with
// the predictor. The wheel-smoothed targets are what make the geometry follow the wheel: a
// prediction for Red is pulled towards Red-Magenta and Orange as well as Red, and every class
// vector is pulled towards predictions of its neighbours, so neighbours end up close and
// opposite hues far apart, while the argmax of t is still the true class. A plain triplet loss
// only separates the true class from one sampled negative and knows nothing of the wheel
// (neighbours and opposites are equally "wrong"); a fixed circle embedding fixes the geometry
// by hand and wastes the E - 2 other dimensions. Forward returns loss * lossWeight; backward
// ACCUMULATES (+=) the scaled gradients. Sums in float64.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Circular distance in steps between wheel positions a and b on a wheel of `classes` steps.
@inlinable
public func wheelDistance(_ a: Int, _ b: Int, classes: Int) -> Int {
  let d = abs(a - b) % classes
  return min(d, classes - d)
}

/// Soft targets (C) for `label`: exp(-wheelDistance^2 / (2 sigma^2)), normalised to sum 1.
public func wheelSoftTargets(label: Int, classes: Int, sigma: Double) -> [Double] {
  let raw = (0..<classes).map { c -> Double in
    let d = Double(wheelDistance(label, c, classes: classes))
    return exp(-d * d / (2 * sigma * sigma))
  }
  let sum = raw.reduce(0, +)
  return raw.map { $0 / sum }
}

/// Every label's soft targets, once per batch rather than once per row (same values).
private func softTargetTable(classes: Int, sigma: Double) -> [[Double]] {
  (0..<classes).map { wheelSoftTargets(label: $0, classes: classes, sigma: sigma) }
}

/// Row r's logits z_c = -|p_r - v_c|^2 (C), in float64, into z. Four classes at a time: each
/// class's sum still runs over k in order (the same arithmetic as one class at a time), but
/// four independent sums keep the adder busy where one would wait on its own latency.
@inline(__always)
private func distanceLogits(
  _ z: UnsafeMutableBufferPointer<Double>, _ predictions: UnsafeBufferPointer<Float>,
  _ classVectors: UnsafeBufferPointer<Float>, row r: Int, classes: Int, dimensions: Int
) {
  let p = predictions.baseAddress! + r * dimensions
  let v = classVectors.baseAddress!
  var c = 0
  while c + 4 <= classes {
    var s = SIMD4<Double>(repeating: 0)
    for k in 0..<dimensions {
      let vk = SIMD4<Double>(
        Double(v[c * dimensions + k]), Double(v[(c + 1) * dimensions + k]), Double(v[(c + 2) * dimensions + k]),
        Double(v[(c + 3) * dimensions + k]))
      let d = Double(p[k]) - vk
      s += d * d
    }
    for i in 0..<4 { z[c + i] = -s[i] }
    c += 4
  }
  for c in c..<classes {
    var s = 0.0
    for k in 0..<dimensions {
      let d = Double(p[k]) - Double(v[c * dimensions + k])
      s += d * d
    }
    z[c] = -s
  }
}

/// Row r's logits z_c = -|p_r - v_c|^2 (C), in float64.
private func distanceLogits(
  _ predictions: UnsafeBufferPointer<Float>, _ classVectors: UnsafeBufferPointer<Float>, row r: Int,
  classes: Int, dimensions: Int
) -> [Double] {
  [Double](unsafeUninitializedCapacity: classes) { z, count in
    distanceLogits(z, predictions, classVectors, row: r, classes: classes, dimensions: dimensions)
    count = classes
  }
}

/// The largest of z's entries (C >= 1), the first one on ties.
@inline(__always)
private func maximum(_ z: UnsafeMutableBufferPointer<Double>) -> Double {
  var m = z[0]
  for c in 1..<z.count where z[c] > m { m = z[c] }
  return m
}

/// Wheel-smoothed prototype cross-entropy of predictions (B, E) against class vectors (C, E),
/// batch-reduced Keras-style, times lossWeight. Rows with label -1 contribute nothing.
public func embeddingLossForward(
  predictions: UnsafeBufferPointer<Float>, classVectors: UnsafeBufferPointer<Float>,
  labels: UnsafeBufferPointer<Int32>, rowWeights: UnsafeBufferPointer<Float>?, lossWeight: Float,
  sigma: Double, batch: Int, classes: Int, dimensions: Int
) -> Float {
  var total = 0.0
  let targets = softTargetTable(classes: classes, sigma: sigma)
  // One scratch row of logits for the whole batch (these run after every training batch).
  withUnsafeTemporaryAllocation(of: Double.self, capacity: classes) { z in
    for r in 0..<batch where labels[r] >= 0 {
      distanceLogits(z, predictions, classVectors, row: r, classes: classes, dimensions: dimensions)
      let t = targets[Int(labels[r])]
      let m = maximum(z)
      var sum = 0.0
      for c in 0..<classes { sum += exp(z[c] - m) }
      let lse = m + log(sum)
      var row = 0.0
      for c in 0..<classes { row += t[c] * (lse - z[c]) }
      total += row * Double(rowWeights?[r] ?? 1)
    }
  }
  return Float(total / Double(batch)) * lossWeight
}

/// Accumulates the gradients of `embeddingLossForward`: with g_c = (q_c - t_c) weight_r
/// lossWeight / B (the cross-entropy's gradient w.r.t. z_c) and dz_c/dp = -2 (p - v_c),
/// dPredictions_r += sum_c -2 g_c (p_r - v_c) and dClassVectors_c += 2 g_c (p_r - v_c).
public func embeddingLossBackward(
  dPredictions: UnsafeMutableBufferPointer<Float>, dClassVectors: UnsafeMutableBufferPointer<Float>,
  predictions: UnsafeBufferPointer<Float>, classVectors: UnsafeBufferPointer<Float>,
  labels: UnsafeBufferPointer<Int32>, rowWeights: UnsafeBufferPointer<Float>?, lossWeight: Float,
  sigma: Double, batch: Int, classes: Int, dimensions: Int
) {
  let targets = softTargetTable(classes: classes, sigma: sigma)
  withUnsafeTemporaryAllocation(of: Double.self, capacity: classes) { z in
    for r in 0..<batch where labels[r] >= 0 {
      let scale = Double(rowWeights?[r] ?? 1) * Double(lossWeight) / Double(batch)
      distanceLogits(z, predictions, classVectors, row: r, classes: classes, dimensions: dimensions)
      let t = targets[Int(labels[r])]
      let m = maximum(z)
      var sum = 0.0
      for c in 0..<classes {
        z[c] = exp(z[c] - m)  // z now holds e_c = exp(z_c - m)
        sum += z[c]
      }
      let (p, v) = (predictions.baseAddress! + r * dimensions, classVectors.baseAddress!)
      let (dp, dv) = (dPredictions.baseAddress! + r * dimensions, dClassVectors.baseAddress!)
      for c in 0..<classes {
        let g = (z[c] / sum - t[c]) * scale
        for k in 0..<dimensions {
          let diff = Double(p[k]) - Double(v[c * dimensions + k])
          dp[k] += Float(-2 * g * diff)
          dv[c * dimensions + k] += Float(2 * g * diff)
        }
      }
    }
  }
}

/// Every label's soft targets on a wheel of `classes` (`wheelSoftTargets`), computed once: a
/// trainer keeps one per embedding head rather than recomputing C x C exponentials per batch.
public struct WheelTargets: Sendable {
  public let classes: Int
  /// (C, C): row y is label y's targets.
  let table: [Double]

  public init(classes: Int, sigma: Double) {
    self.classes = classes
    table = (0..<classes).flatMap { wheelSoftTargets(label: $0, classes: classes, sigma: sigma) }
  }
}

/// The unweighted loss (`embeddingLossForward` with lossWeight 1) returned, and the gradients of
/// lossWeight times it accumulated as `embeddingLossBackward` does, in one pass over the batch:
/// the same arithmetic, each row's distances and exponentials computed once instead of twice.
/// Training calls this after every batch.
public func embeddingLossAndGradient(
  dPredictions: UnsafeMutableBufferPointer<Float>, dClassVectors: UnsafeMutableBufferPointer<Float>,
  predictions: UnsafeBufferPointer<Float>, classVectors: UnsafeBufferPointer<Float>,
  labels: UnsafeBufferPointer<Int32>, rowWeights: UnsafeBufferPointer<Float>?, lossWeight: Float,
  sigma: Double, batch: Int, classes: Int, dimensions: Int
) -> Float {
  embeddingLossAndGradient(
    dPredictions: dPredictions, dClassVectors: dClassVectors, predictions: predictions, classVectors: classVectors,
    labels: labels, rowWeights: rowWeights, lossWeight: lossWeight,
    targets: WheelTargets(classes: classes, sigma: sigma), batch: batch, dimensions: dimensions)
}

/// `embeddingLossAndGradient` with the soft targets computed beforehand.
public func embeddingLossAndGradient(
  dPredictions: UnsafeMutableBufferPointer<Float>, dClassVectors: UnsafeMutableBufferPointer<Float>,
  predictions: UnsafeBufferPointer<Float>, classVectors: UnsafeBufferPointer<Float>,
  labels: UnsafeBufferPointer<Int32>, rowWeights: UnsafeBufferPointer<Float>?, lossWeight: Float,
  targets: WheelTargets, batch: Int, dimensions: Int
) -> Float {
  let classes = targets.classes
  var total = 0.0
  targets.table.withUnsafeBufferPointer { table in
    withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * classes) { scratch in
      let z = UnsafeMutableBufferPointer(rebasing: scratch[0..<classes])
      let e = UnsafeMutableBufferPointer(rebasing: scratch[classes..<(2 * classes)])
      for r in 0..<batch where labels[r] >= 0 {
        distanceLogits(z, predictions, classVectors, row: r, classes: classes, dimensions: dimensions)
        let t = table.baseAddress! + Int(labels[r]) * classes
        let m = maximum(z)
        var sum = 0.0
        for c in 0..<classes {
          e[c] = exp(z[c] - m)
          sum += e[c]
        }
        // The loss, as embeddingLossForward.
        let lse = m + log(sum)
        var row = 0.0
        for c in 0..<classes { row += t[c] * (lse - z[c]) }
        total += row * Double(rowWeights?[r] ?? 1)
        // The gradients, as embeddingLossBackward.
        let scale = Double(rowWeights?[r] ?? 1) * Double(lossWeight) / Double(batch)
        let (p, v) = (predictions.baseAddress! + r * dimensions, classVectors.baseAddress!)
        let (dp, dv) = (dPredictions.baseAddress! + r * dimensions, dClassVectors.baseAddress!)
        for c in 0..<classes {
          let g = (e[c] / sum - t[c]) * scale
          for k in 0..<dimensions {
            let diff = Double(p[k]) - Double(v[c * dimensions + k])
            dp[k] += Float(-2 * g * diff)
            dv[c * dimensions + k] += Float(2 * g * diff)
          }
        }
      }
    }
  }
  return Float(total / Double(batch))
}

/// The index of the class vector (C, E) nearest (squared Euclidean) to each prediction (B, E);
/// ties go to the lower index. Needs at least one class (callers validate the wheel first).
public func nearestClass(
  predictions: UnsafeBufferPointer<Float>, classVectors: UnsafeBufferPointer<Float>, batch: Int,
  classes: Int, dimensions: Int
) -> [Int] {
  precondition(classes > 0, "an embedding head needs at least one wheel class")
  return (0..<batch).map { r in
    let z = distanceLogits(predictions, classVectors, row: r, classes: classes, dimensions: dimensions)
    var best = 0
    for c in 1..<classes where z[c] > z[best] { best = c }
    return best
  }
}
