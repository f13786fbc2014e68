// Training a multi-head model on two cores: heads in independent groups, one thread each.
//
// The features are frozen, so heads share nothing but their input: the total loss is a sum of
// per-head terms, each head's gradient involves only its own parameters, and every optimiser
// is element-wise. A step of the whole model is therefore exactly a step of each group of heads
// on the same batch. The heads are split into groups of about equal first-layer width (the
// fused matrix products and the optimiser update scale with it), each group keeps its own
// packed parameters (FusedLayout.swift), workspace and optimiser state, and after the batch is
// gathered once, the groups take their steps at the same time. OpenBLAS runs single-threaded
// meanwhile (parallelism at one level only): the matrices of one batch (32 x 2048 by ~30
// columns) are too small for its threads to pay off, while whole groups are not.
//
// Dropout masks come from one stream per head, so a head's masks do not depend on the grouping.

import Dispatch
import Engine

/// Trains a model's heads epoch after epoch, in parallel groups; holds the parameters and the
/// optimiser state between epochs.
public final class HeadsTrainer {
  public let specs: [HeadSpec]
  public let inputWidth: Int
  private var groups: [Group]
  private var batch: BatchBuffer
  private let batchSize: Int
  private let parameterCount: Int

  private struct Group {
    var heads: [Int]
    /// The model's parameter ranges of those heads, in order.
    var ranges: [Range<Int>]
    var trainer: FusedTrainer
    var optimizer: Optimizer
    /// The group's own copy of the batch (capacity, D), when rows are gathered per group.
    var x: [Float]

    /// One step (or, without `train`, losses only) on the batch x; with x nil, the group first
    /// gathers the batch from `sources` (one pointer to D floats per row) into its own copy.
    mutating func step(
      _ x: UnsafeBufferPointer<Float>?, sources: UnsafeBufferPointer<UnsafePointer<Float>>,
      rows: UnsafeBufferPointer<Int>, targets: [HeadTargets], train: Bool
    ) -> HeadLosses {
      trainer.setTargets(rows: rows, from: targets)
      guard let x else {
        // Take the buffer out of self while lending it, so the step may mutate self.
        var copy: [Float] = []
        swap(&copy, &self.x)
        defer { swap(&copy, &self.x) }
        let d = trainer.layout.inputWidth
        copy.withUnsafeMutableBufferPointer { copy in
          for (slot, source) in sources.prefix(rows.count).enumerated() {
            (copy.baseAddress! + slot * d).update(from: source, count: d)
          }
        }
        return copy.withUnsafeBufferPointer { step($0, rows: rows, train: train) }
      }
      return step(x, rows: rows, train: train)
    }

    private mutating func step(_ x: UnsafeBufferPointer<Float>, rows: UnsafeBufferPointer<Int>, train: Bool)
      -> HeadLosses
    {
      guard train else { return trainer.lossAndGradient(x, batch: rows.count, dropout: false, backward: false) }
      return trainer.step(x, batch: rows.count, optimizer: &optimizer)
    }
  }

  /// A trainer for `model` with a fresh `optimizer` (Keras' decoupled `weightDecay` if given),
  /// batches of `batchSize` rows, and up to `threads` groups of heads trained at once.
  public init(
    model: MultiHeadModel, optimizer: OptimizerKind, weightDecay: Double? = nil, batchSize: Int, threads: Int = 2
  ) {
    precondition(batchSize >= 1 && threads >= 1)
    specs = model.specs
    inputWidth = model.inputWidth
    self.batchSize = batchSize
    parameterCount = model.parameters.count
    let capacity = max(batchSize, Self.evaluationBlock)
    batch = BatchBuffer(width: model.inputWidth, capacity: capacity)
    // Longest-processing-time-first: widest heads first, each to the lightest group so far.
    // A head's cost: its first layer's width (the products and the optimiser scale with it),
    // plus, for an embedding head, its wheel (its loss compares every row with every class).
    let width = { (h: Int) in model.slots[h][0].outputs + 1 + model.specs[h].wheelClasses.count }
    var members = [[Int]](repeating: [], count: min(threads, max(1, model.specs.count)))
    var load = [Int](repeating: 0, count: members.count)
    for h in model.specs.indices.sorted(by: { width($0) > width($1) || (width($0) == width($1) && $0 < $1) }) {
      let lightest = load.indices.min { load[$0] < load[$1] }!
      members[lightest].append(h)
      load[lightest] += width(h)
    }
    groups = members.filter { !$0.isEmpty }.map { heads in
      let heads = heads.sorted()
      let ranges = heads.map { model.headParameters($0) }
      let part = MultiHeadModel(
        specs: heads.map { model.specs[$0] }, inputWidth: model.inputWidth,
        parameters: ranges.flatMap { model.parameters[$0] })
      let trainer = FusedTrainer(model: part, capacity: capacity, streams: heads)
      return Group(
        heads: heads, ranges: ranges, trainer: trainer,
        optimizer: Optimizer(optimizer, parameterCount: part.parameters.count, weightDecay: weightDecay),
        x: [Float](repeating: 0, count: capacity * model.inputWidth))
    }
  }

  /// The model with the current parameters.
  public var model: MultiHeadModel {
    var parameters = [Float](repeating: 0, count: parameterCount)
    for group in groups {
      var part = MultiHeadModel(
        specs: group.heads.map { specs[$0] }, inputWidth: inputWidth,
        parameters: [Float](repeating: 0, count: group.trainer.parameters.count))
      group.trainer.write(into: &part)
      var offset = 0
      for range in group.ranges {
        parameters.replaceSubrange(range, with: part.parameters[offset..<(offset + range.count)])
        offset += range.count
      }
    }
    return MultiHeadModel(specs: specs, inputWidth: inputWidth, parameters: parameters)
  }

  /// One epoch on rows fed in training order by `rows`, which calls its argument once per row
  /// with the row's features (D) and its index into `targets`; consecutive rows form batches of
  /// `batchSize`, the last one shorter. Dropout masks are drawn from `maskSeed` (give every epoch
  /// its own). Returns the epoch's losses as Keras' history does: the mean over batches of each
  /// batch's loss before its update. With `rowsStayValid` (the features passed to `rows` stay
  /// where they are for the whole epoch, e.g. rows of one matrix in memory), each group copies
  /// the batch's rows itself, at the same time as the others, instead of this thread copying
  /// them once before the groups start.
  public func trainEpoch(
    targets: [HeadTargets], maskSeed: UInt64 = 0, rowsStayValid: Bool = false,
    rows: ((_ features: UnsafeBufferPointer<Float>, _ targetRow: Int) -> Void) throws -> Void
  ) rethrows -> HeadLosses {
    precondition(targets.count == specs.count)
    for g in groups.indices {
      groups[g].trainer.masks = groups[g].heads.map { SplitMix64(seed: maskSeed, stream: UInt64($0)) }
    }
    return try run(targets: targets, blockRows: batchSize, train: true, rowsStayValid: rowsStayValid, rows: rows).mean
  }

  /// Rows evaluated at once by `evaluateLoss`.
  static let evaluationBlock = 256

  /// The losses of the current model (no dropout, no update) over the rows fed by `rows` as in
  /// `trainEpoch`, as if they were one batch: each head's sum of row losses over the row count.
  public func evaluateLoss(
    targets: [HeadTargets], rowsStayValid: Bool = false,
    rows: ((_ features: UnsafeBufferPointer<Float>, _ targetRow: Int) -> Void) throws -> Void
  ) rethrows -> HeadLosses {
    precondition(targets.count == specs.count)
    return try run(
      targets: targets, blockRows: Self.evaluationBlock, train: false, rowsStayValid: rowsStayValid, rows: rows
    ).rowWeighted
  }

  /// Feeds `rows` through the groups in blocks of `blockRows`, training or only evaluating.
  /// Returns the mean of the blocks' losses and their mean weighted by block size.
  private func run(
    targets: [HeadTargets], blockRows: Int, train: Bool, rowsStayValid: Bool,
    rows: ((_ features: UnsafeBufferPointer<Float>, _ targetRow: Int) -> Void) throws -> Void
  ) rethrows -> (mean: HeadLosses, rowWeighted: HeadLosses) {
    let groupTargets = groups.map { group in group.heads.map { targets[$0] } }
    var sums = HeadLosses(heads: [Double](repeating: 0, count: specs.count), total: 0)
    var weighted = sums
    var (blocks, rowCount) = (0, 0)
    let threads = blasThreads()
    setBLASThreads(1)
    defer { setBLASThreads(threads) }
    /// Adds one block's losses (per group, in group head order).
    func accumulate(_ losses: [HeadLosses], count: Int) {
      // The groups' totals add up in head order, as one model's would.
      var heads = [Double](repeating: 0, count: specs.count)
      for (g, group) in groups.enumerated() {
        for (i, h) in group.heads.enumerated() { heads[h] = losses[g].heads[i] }
      }
      for h in heads.indices {
        sums.heads[h] += heads[h]
        sums.total += heads[h] * Double(specs[h].lossWeight)
        weighted.heads[h] += heads[h] * Double(count)
        weighted.total += heads[h] * Double(specs[h].lossWeight) * Double(count)
      }
      blocks += 1
      rowCount += count
    }
    func results() -> (mean: HeadLosses, rowWeighted: HeadLosses) {
      let (n, m) = (Double(max(1, blocks)), Double(max(1, rowCount)))
      return (
        HeadLosses(heads: sums.heads.map { $0 / n }, total: sums.total / n),
        HeadLosses(heads: weighted.heads.map { $0 / m }, total: weighted.total / m)
      )
    }

    if rowsStayValid {
      // Rows stay put: list them, then let every group run through all the blocks on its own
      // thread, gathering its own batches; one hand-off per epoch instead of one per batch.
      var sources: [UnsafePointer<Float>] = []
      var targetRows: [Int] = []
      try rows { features, targetRow in
        sources.append(features.baseAddress!)
        targetRows.append(targetRow)
      }
      let total = targetRows.count
      let blockCount = (total + blockRows - 1) / blockRows
      var perGroup = [[HeadLosses]](repeating: [], count: groups.count)
      sources.withUnsafeBufferPointer { sources in
        targetRows.withUnsafeBufferPointer { targetRows in
          let shared = Shared(x: nil, sources: sources, rows: targetRows)
          groups.withUnsafeMutableBufferPointer { groups in
            perGroup.withUnsafeMutableBufferPointer { perGroup in
              let (groups, perGroup) = (Unchecked(groups), Unchecked(perGroup))
              DispatchQueue.concurrentPerform(iterations: groups.value.count) { g in
                var losses: [HeadLosses] = []
                losses.reserveCapacity(blockCount)
                for b in 0..<blockCount {
                  let range = (b * blockRows)..<min(total, (b + 1) * blockRows)
                  losses.append(
                    groups.value[g].step(
                      nil, sources: UnsafeBufferPointer(rebasing: shared.sources[range]),
                      rows: UnsafeBufferPointer(rebasing: shared.rows[range]), targets: groupTargets[g], train: train))
                }
                perGroup.value[g] = losses
              }
            }
          }
        }
      }
      for b in 0..<blockCount {
        accumulate(perGroup.map { $0[b] }, count: min(total, (b + 1) * blockRows) - b * blockRows)
      }
      return results()
    }

    // Rows may move (a chunk of a streamed file is replaced by the next): copy each batch once,
    // then let the groups step on it together.
    func step() {
      let count = batch.count
      var losses = [HeadLosses?](repeating: nil, count: groups.count)
      batch.x.withUnsafeBufferPointer { x in
        batch.rows.withUnsafeBufferPointer { rows in
          let shared = Shared(
            x: x, sources: UnsafeBufferPointer(start: nil, count: 0),
            rows: UnsafeBufferPointer(rebasing: rows[0..<count]))
          groups.withUnsafeMutableBufferPointer { groups in
            losses.withUnsafeMutableBufferPointer { losses in
              let (groups, losses) = (Unchecked(groups), Unchecked(losses))
              DispatchQueue.concurrentPerform(iterations: groups.value.count) { g in
                losses.value[g] = groups.value[g].step(
                  shared.x, sources: shared.sources, rows: shared.rows, targets: groupTargets[g], train: train)
              }
            }
          }
        }
      }
      accumulate(losses.map { $0! }, count: count)
      batch.count = 0
    }
    try rows { features, targetRow in
      batch.append(features, targetRow: targetRow)
      if batch.count == blockRows { step() }
    }
    if batch.count > 0 { step() }
    return results()
  }
}

/// The batch every group reads, lent to the worker threads for one step.
private struct Shared: @unchecked Sendable {
  /// The gathered batch, or nil when each group gathers it from `sources`.
  let x: UnsafeBufferPointer<Float>?
  let sources: UnsafeBufferPointer<UnsafePointer<Float>>
  let rows: UnsafeBufferPointer<Int>
}

/// A buffer lent to the worker threads for one step; each touches only its own element.
private struct Unchecked<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}

extension MultiHeadModel {
  /// Head `h`'s parameters in the model's buffer: its layers, then its class vectors.
  func headParameters(_ h: Int) -> Range<Int> {
    slots[h][0].kernel.lowerBound..<max(slots[h].last!.bias.upperBound, classVectorSlots[h].upperBound)
  }
}
