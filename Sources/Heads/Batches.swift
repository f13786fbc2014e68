// Shuffled mini-batches, as Keras' `model.fit(shuffle=True)` makes them: each epoch a fresh
// permutation of the rows, cut into consecutive batches of `batchSize`, the last one shorter.
// Features (N, D) and targets (N, outputs) are row-major; a batch is gathered into the trainer's
// contiguous buffers (FusedTrainer.swift) straight from the caller's rows.

import Support

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

/// Trains `model` for one epoch over `batches` of row indices (e.g. from `epochBatches`) into
/// `features` (N, D) and every head's targets (N rows): each batch's rows are read where they
/// are, so the training rows never need a matrix of their own. Returns the
/// epoch's losses as Keras' history does: the mean over batches of each batch's loss before its
/// update. Heads with `dropout` draw their masks from `maskSeed` (give every epoch its own).
/// The optimiser's state is kept in the trainer's parameter order (FusedLayout.swift), so one
/// `optimizer` must only ever step through this function. Single-threaded; `HeadsTrainer` is
/// the parallel form.
public func trainEpoch(
  _ model: inout MultiHeadModel, optimizer: inout Optimizer, features: [Float], targets: [HeadTargets],
  batches: [[Int]], maskSeed: UInt64 = 0
) -> HeadLosses {
  precondition(targets.count == model.specs.count)
  let d = model.inputWidth
  var sums = HeadLosses(heads: [Double](repeating: 0, count: model.specs.count), total: 0)
  let capacity = batches.map(\.count).max() ?? 1
  var trainer = FusedTrainer(model: model, capacity: capacity, maskSeed: maskSeed)
  features.withUnsafeBufferPointer { source in
    for rows in batches where !rows.isEmpty {
      precondition(rows.allSatisfy { ($0 + 1) * d <= source.count })
      let pointers = rows.map { source.baseAddress! + $0 * d }
      rows.withUnsafeBufferPointer { trainer.setTargets(rows: $0, from: targets) }
      let losses = pointers.withUnsafeBufferPointer { trainer.step($0, optimizer: &optimizer) }
      for h in sums.heads.indices { sums.heads[h] += losses.heads[h] }
      sums.total += losses.total
    }
  }
  trainer.write(into: &model)
  let n = Double(max(1, batches.count))
  return HeadLosses(heads: sums.heads.map { $0 / n }, total: sums.total / n)
}

/// The losses of `model` (no dropout, no update) over the rows fed by `rows`, which calls its
/// argument once per row with the row's features (D) and its index into `targets`, as if they
/// were one batch: each head's sum of row losses over the row count. Computed in blocks of
/// `blockRows` rows so memory stays bounded.
public func evaluateLoss(
  of model: MultiHeadModel, targets: [HeadTargets], blockRows: Int = 512,
  rows: ((_ features: UnsafeBufferPointer<Float>, _ targetRow: Int) -> Void) throws -> Void
) rethrows -> HeadLosses {
  precondition(targets.count == model.specs.count && blockRows >= 1)
  var sums = HeadLosses(heads: [Double](repeating: 0, count: model.specs.count), total: 0)
  var count = 0
  var trainer = FusedTrainer(model: model, capacity: blockRows)
  var block = BatchBuffer(width: model.inputWidth, capacity: blockRows)
  func evaluate() {
    // Each block's losses are means over its rows: weight them by the block's size.
    let filled = block.count
    block.rows.withUnsafeBufferPointer {
      trainer.setTargets(rows: UnsafeBufferPointer(rebasing: $0[0..<filled]), from: targets)
    }
    let losses = block.x.withUnsafeBufferPointer {
      trainer.lossAndGradient($0, batch: filled, dropout: false, backward: false)
    }
    for h in sums.heads.indices { sums.heads[h] += losses.heads[h] * Double(filled) }
    sums.total += losses.total * Double(filled)
    count += filled
    block.count = 0
  }
  try rows { features, targetRow in
    block.append(features, targetRow: targetRow)
    if block.count == blockRows { evaluate() }
  }
  if block.count > 0 { evaluate() }
  let n = Double(max(1, count))
  return HeadLosses(heads: sums.heads.map { $0 / n }, total: sums.total / n)
}

/// Rows collected for one batch: features (capacity, D) and each row's index into the targets.
struct BatchBuffer {
  let width: Int
  var x: [Float]
  var rows: [Int]
  var count = 0

  init(width: Int, capacity: Int) {
    self.width = width
    x = [Float](repeating: 0, count: width * capacity)
    rows = [Int](repeating: 0, count: capacity)
  }

  mutating func append(_ features: UnsafeBufferPointer<Float>, targetRow: Int) {
    precondition(features.count == width)
    let offset = count * width
    x.withUnsafeMutableBufferPointer { x in
      _ = UnsafeMutableBufferPointer(rebasing: x[offset..<(offset + width)]).initialize(from: features)
    }
    rows[count] = targetRow
    count += 1
  }
}
