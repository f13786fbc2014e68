// One epoch of mini-batch training, as Keras' `model.fit` runs it.

/// Trains `model` for one epoch over `batches` (row ranges, in order) and returns the epoch's
/// losses as Keras' history reports them: the mean over the batches of each batch's loss,
/// computed before that batch's update.
public func trainEpoch(
  _ model: inout MultiHeadModel, optimizer: inout Optimizer, features: [Float], targets: [HeadTargets],
  batches: [Range<Int>]
) -> HeadLosses {
  var sums = HeadLosses(heads: [Double](repeating: 0, count: model.specs.count), total: 0)
  var gradients = [Float](repeating: 0, count: model.parameters.count)
  for rows in batches {
    for i in gradients.indices { gradients[i] = 0 }
    let losses = features.withUnsafeBufferPointer { x in
      gradients.withUnsafeMutableBufferPointer { g in
        model.lossAndGradient(features: x, targets: targets, rows: rows, gradients: g)
      }
    }
    optimizer.step(&model.parameters, gradients: gradients)
    for h in sums.heads.indices { sums.heads[h] += losses.heads[h] }
    sums.total += losses.total
  }
  let n = Double(max(1, batches.count))
  return HeadLosses(heads: sums.heads.map { $0 / n }, total: sums.total / n)
}
