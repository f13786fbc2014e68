// Shuffled mini-batches, as Keras' `model.fit(shuffle=True)` makes them: each epoch a fresh
// permutation of the rows, cut into consecutive batches of `batchSize`, the last one shorter.
// Features (N, D) and targets (N, outputs) are row-major; a batch is gathered into contiguous
// buffers so `MultiHeadModel.lossAndGradient` can keep taking a row range.

/// The batches of one epoch, as row indices. Without `shuffle`, rows in order; with it, the rows
/// permuted by `fisherYatesShuffle` with `SplitMix64(seed: seed, stream: UInt64(epoch))`, so
/// every epoch has its own order and the same (seed, epoch) always gives the same order.
public func epochBatches(rows: Int, batchSize: Int, epoch: Int, seed: UInt64, shuffle: Bool) -> [[Int]] {
  precondition(rows >= 0 && batchSize > 0 && epoch >= 0)
  var order = Array(0..<rows)
  if shuffle {
    var generator = SplitMix64(seed: seed, stream: UInt64(epoch))
    fisherYatesShuffle(&order, using: &generator)
  }
  return stride(from: 0, to: rows, by: batchSize).map { Array(order[$0..<min($0 + batchSize, rows)]) }
}

/// The given rows of `features` (N, width) and of every head's targets, gathered in the given
/// order into contiguous buffers: features (B, width), each head's values (B, outputs) and row
/// weights (B).
public func gatherRows(
  _ rows: [Int], features: [Float], width: Int, targets: [HeadTargets]
) -> (features: [Float], targets: [HeadTargets]) {
  var x = [Float]()
  x.reserveCapacity(rows.count * width)
  for row in rows { x.append(contentsOf: features[(row * width)..<((row + 1) * width)]) }
  let gathered = targets.map { target -> HeadTargets in
    let outputs = target.rowWeights.isEmpty ? 0 : target.values.count / target.rowWeights.count
    var values = [Float]()
    values.reserveCapacity(rows.count * outputs)
    for row in rows { values.append(contentsOf: target.values[(row * outputs)..<((row + 1) * outputs)]) }
    return HeadTargets(values: values, rowWeights: rows.map { target.rowWeights[$0] })
  }
  return (x, gathered)
}

/// Trains `model` for one epoch over `batches` of row indices (e.g. from `epochBatches`); each
/// batch is gathered, then stepped as in the range-based `trainEpoch`. Returns the epoch's losses
/// as Keras' history does: the mean over batches of each batch's loss before its update.
public func trainEpoch(
  _ model: inout MultiHeadModel, optimizer: inout Optimizer, features: [Float], targets: [HeadTargets],
  batches: [[Int]]
) -> HeadLosses {
  var sums = HeadLosses(heads: [Double](repeating: 0, count: model.specs.count), total: 0)
  var gradients = [Float](repeating: 0, count: model.parameters.count)
  for rows in batches {
    let batch = gatherRows(rows, features: features, width: model.inputWidth, targets: targets)
    for i in gradients.indices { gradients[i] = 0 }
    let losses = batch.features.withUnsafeBufferPointer { x in
      gradients.withUnsafeMutableBufferPointer { g in
        model.lossAndGradient(features: x, targets: batch.targets, rows: 0..<rows.count, gradients: g)
      }
    }
    optimizer.step(&model.parameters, gradients: gradients)
    for h in sums.heads.indices { sums.heads[h] += losses.heads[h] }
    sums.total += losses.total
  }
  let n = Double(max(1, batches.count))
  return HeadLosses(heads: sums.heads.map { $0 / n }, total: sums.total / n)
}
