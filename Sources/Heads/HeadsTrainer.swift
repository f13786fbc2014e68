// Training a multi-head model on two cores: heads in independent groups, one thread each.
//
// The features are frozen, so heads share nothing but their input: the total loss is a sum of
// per-head terms, each head's gradient involves only its own parameters, and every optimiser
// is element-wise. A step of the whole model is therefore exactly a step of each group of heads
// on the same batch. The heads are split into groups of about equal first-layer width (the
// fused matrix products and the optimiser update scale with it), each group keeps its own
// packed parameters (FusedLayout.swift), workspace and optimiser state, and the groups take
// their steps on the same batch at the same time, each reading the batch's rows where they are.
// The products are the engine's own single-threaded kernels (Engine/DenseRows.swift), and
// OpenBLAS, for the small products of hidden layers, runs single-threaded too (parallelism at
// one level only): one batch (32 x 2048 by ~30 units) is too small to split between threads,
// while whole groups are not.
//
// When one head is much wider than the rest (a 64-unit hidden layer beside linear heads), whole
// heads cannot be balanced: that head's first-layer units are then shared between the groups
// (SplitHead.swift), and the two groups meet twice per batch instead of once per epoch.
//
// Dropout masks come from one stream per head, so a head's masks do not depend on the grouping.

import Dispatch
import Engine
import Support

/// Trains a model's heads epoch after epoch, in parallel groups; holds the parameters and the
/// optimiser state between epochs.
public final class HeadsTrainer {
  public let specs: [HeadSpec]
  public let inputWidth: Int
  private var groups: [Group]
  private var batch: BatchBuffer
  private let batchSize: Int
  private let parameterCount: Int

  private let threads: GroupThreads
  /// The split head's meeting point, if a head is split between two groups.
  private let link: SplitLink?

  private struct Group {
    var trainer: FusedTrainer
    var optimizer: Optimizer
    /// The model's heads whose losses this group computes, in order.
    var heads: [Int] { trainer.layout.heads }

    /// One step (or, without `train`, losses only) on the batch whose rows are `rows` (pointers
    /// to D features each, read where they are) and whose targets are rows `targetRows`.
    mutating func step(
      _ rows: UnsafeBufferPointer<UnsafePointer<Float>>, targetRows: UnsafeBufferPointer<Int>,
      targets: [HeadTargets], train: Bool
    ) -> HeadLosses {
      trainer.setTargets(rows: targetRows, from: targets)
      guard train else { return trainer.lossAndGradient(rows, dropout: false, backward: false) }
      return trainer.step(rows, optimizer: &optimizer)
    }
  }

  /// A trainer for `model` with a fresh `optimizer` (Keras' decoupled `weightDecay` if given),
  /// batches of `batchSize` rows, and up to `threads` groups of heads trained at once. With
  /// `split` false no head is shared between groups (for tests comparing the two).
  public init(
    model: MultiHeadModel, optimizer: OptimizerKind, weightDecay: Double? = nil, batchSize: Int, threads: Int = 2,
    split: Bool = true
  ) {
    precondition(batchSize >= 1 && threads >= 1)
    specs = model.specs
    inputWidth = model.inputWidth
    self.batchSize = batchSize
    parameterCount = model.parameters.count
    let capacity = max(batchSize, Self.evaluationBlock)
    batch = BatchBuffer(width: model.inputWidth, capacity: capacity)
    let plan = Self.plan(model: model, groups: threads, split: split)
    groups = plan.shares.map { shares in
      let layout = FusedLayout(model: model, shares: shares)
      return Group(
        trainer: FusedTrainer(layout: layout, model: model, capacity: capacity),
        optimizer: Optimizer(optimizer, parameterCount: layout.order.count, weightDecay: weightDecay))
    }
    if let split = plan.split {
      let link = SplitLink(head: split.head, remoteUnits: split.remoteUnits)
      groups[split.owner].trainer.link = link
      groups[split.helper].trainer.link = link
      link.attach(helper: groups[split.helper].trainer)
      self.link = link
    } else {
      link = nil
    }
    self.threads = GroupThreads(count: groups.count)
  }

  /// A head's work per batch in its group, in first-layer units, in the two parts of a step
  /// that happen at different times: `units`, its fused first layer's (that unit's share of the
  /// two products with the batch and of the optimiser update, before and after the losses), and
  /// `loss`, what happens in between: the loss and its targets (about 0.6 of a unit), each later
  /// layer (three small BLAS products and a ReLU, 2.4), an embedding head's float64 loss over
  /// every class vector (one per 48 entries of them), and an unfused first layer (input dropout)
  /// whole. Measured per group on the Zen 4 (D = 2048, batch 32): a unit 3.6 µs per batch, the
  /// 64-unit head's later layer 8.7 µs, the five linear heads' losses 19 µs.
  static func cost(of h: Int, in model: MultiHeadModel) -> (units: Double, loss: Double) {
    let spec = model.specs[h]
    let classVectors = spec.kind == .embedding ? spec.wheelClasses.count * spec.dimensions : 0
    let first = Double(model.slots[h][0].outputs)
    let loss = 0.6 + 2.4 * Double(spec.hidden.count) + Double(classVectors) / 48
    return spec.readsOwnInput ? (0, loss + first) : (first, loss)
  }

  /// A split: head `head`'s units `remoteUnits` trained by group `helper`, the rest of it by `owner`.
  struct Split: Equatable {
    var head: Int
    var owner: Int
    var helper: Int
    var remoteUnits: Range<Int>
  }

  /// Which heads, or parts of heads, each of up to `groups` groups trains.
  ///
  /// Whole heads: longest-processing-time-first on their whole cost, costliest first, each to
  /// the lightest group so far; the groups then run through an epoch without waiting for each
  /// other, so what counts is the heavier group's total.
  ///
  /// With two groups and one head much wider than the rest, its first-layer units are shared
  /// instead. The groups then meet twice per batch, so each part of the step must be even on
  /// its own: the heads (the wide one's tail included) go to the groups by their `loss` cost,
  /// then the wide head's units are divided so that the groups' units come out equal. Chosen
  /// when its heavier units plus heavier losses, plus one unit for the hand-offs, are at least
  /// 10 % below the whole heads' heavier total.
  static func plan(model: MultiHeadModel, groups: Int, split: Bool = true) -> (shares: [[HeadShare]], split: Split?) {
    let costs = model.specs.indices.map { cost(of: $0, in: model) }
    let count = min(groups, max(1, model.specs.count))
    /// Longest-processing-time-first: the heads in `count` groups, each sorted.
    func assign(_ weight: (Int) -> Double) -> [[Int]] {
      var members = [[Int]](repeating: [], count: count)
      var load = [Double](repeating: 0, count: count)
      for h in model.specs.indices.sorted(by: { weight($0) > weight($1) || (weight($0) == weight($1) && $0 < $1) }) {
        let lightest = load.indices.min { load[$0] < load[$1] }!
        members[lightest].append(h)
        load[lightest] += weight(h)
      }
      return members.map { $0.sorted() }
    }
    let whole = assign { costs[$0].units + costs[$0].loss }
    let wholeShares = whole.map { $0.map { HeadShare(head: $0, units: model.units($0), tail: true) } }
    let wholeScore = whole.map { $0.reduce(0) { $0 + costs[$1].units + costs[$1].loss } }.max()!
    guard split, count == 2,
      let wide = model.specs.indices.filter({ costs[$0].units > 0 }).max(by: { costs[$0].units < costs[$1].units })
    else { return (wholeShares, nil) }
    let byLoss = assign { costs[$0].loss }
    let owner = byLoss[0].contains(wide) ? 0 : 1
    let helper = 1 - owner
    let others = byLoss.map { $0.filter { $0 != wide }.reduce(0) { $0 + costs[$1].units } }
    let units = model.slots[wide][0].outputs
    let moved = min(units - 1, max(0, Int(((others[owner] + Double(units) - others[helper]) / 2).rounded())))
    let splitScore =
      max(others[owner] + Double(units - moved), others[helper] + Double(moved))
      + byLoss.map { $0.reduce(0) { $0 + costs[$1].loss } }.max()! + 1
    guard moved >= 4, splitScore <= 0.9 * wholeScore else { return (wholeShares, nil) }
    let remote = (units - moved)..<units
    var shares = byLoss.map { $0.map { HeadShare(head: $0, units: model.units($0), tail: true) } }
    shares[owner] = shares[owner].map {
      $0.head == wide ? HeadShare(head: wide, units: 0..<(units - moved), tail: true) : $0
    }
    shares[helper].append(HeadShare(head: wide, units: remote, tail: false))
    return (shares, Split(head: wide, owner: owner, helper: helper, remoteUnits: remote))
  }

  /// Runs `body` (a whole training, epoch after epoch) with OpenBLAS single-threaded, as every
  /// step wants it. Each epoch would set it so anyway, but setting OpenBLAS back to several
  /// threads in between wakes its workers, which then spin for OpenBLAS' thread timeout
  /// (~0.1 s) on the cores the groups' threads need: 5 % of a run's CPU time, measured.
  /// Setting the count back afterwards wakes them the same way, while fit-heads predicts its
  /// validation rows on its own threads; so they are stopped again then (a later
  /// multi-threaded BLAS call starts them).
  public static func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
    let blas = blasThreads()
    if blas != 1 { setBLASThreads(1) }
    stopIdleBLASThreads()
    defer {
      if blas != 1 {
        setBLASThreads(blas)
        stopIdleBLASThreads()
      }
    }
    return try body()
  }

  /// The model with the current parameters.
  public var model: MultiHeadModel {
    var parameters = [Float](repeating: 0, count: parameterCount)
    for group in groups { group.trainer.layout.unpack(group.trainer.parameters, into: &parameters) }
    return MultiHeadModel(specs: specs, inputWidth: inputWidth, parameters: parameters)
  }

  /// One epoch on rows fed in training order by `rows`, which calls its argument once per row
  /// with the row's features (D) and its index into `targets`; consecutive rows form batches of
  /// `batchSize`, the last one shorter. Dropout masks are drawn from `maskSeed` (give every epoch
  /// its own). Returns the epoch's losses as Keras' history does: the mean over batches of each
  /// batch's loss before its update. With `rowsStayValid` (the features passed to `rows` stay
  /// where they are for the whole epoch, e.g. rows of one matrix in memory), every group runs
  /// through the whole epoch on its own thread reading the rows in place (the threads meet once
  /// per epoch, or twice per batch with a split head); otherwise this thread copies each batch
  /// before the groups step on it.
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
    let blas = blasThreads()
    if blas != 1 { setBLASThreads(1) }
    defer { if blas != 1 { setBLASThreads(blas) } }
    link?.reset()
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
      // thread, reading the rows in place; one hand-off per epoch instead of one per batch.
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
          let shared = Shared(sources: sources, rows: targetRows)
          groups.withUnsafeMutableBufferPointer { groups in
            perGroup.withUnsafeMutableBufferPointer { perGroup in
              let (groups, perGroup) = (Unchecked(groups), Unchecked(perGroup))
              threads.run { g in
                var losses: [HeadLosses] = []
                losses.reserveCapacity(blockCount)
                for b in 0..<blockCount {
                  let range = (b * blockRows)..<min(total, (b + 1) * blockRows)
                  losses.append(
                    groups.value[g].step(
                      UnsafeBufferPointer(rebasing: shared.sources[range]),
                      targetRows: UnsafeBufferPointer(rebasing: shared.rows[range]), targets: groupTargets[g],
                      train: train))
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
      let d = inputWidth
      var losses = [HeadLosses?](repeating: nil, count: groups.count)
      batch.x.withUnsafeBufferPointer { x in
        let pointers = (0..<count).map { x.baseAddress! + $0 * d }
        pointers.withUnsafeBufferPointer { pointers in
          batch.rows.withUnsafeBufferPointer { rows in
            let shared = Shared(sources: pointers, rows: UnsafeBufferPointer(rebasing: rows[0..<count]))
            groups.withUnsafeMutableBufferPointer { groups in
              losses.withUnsafeMutableBufferPointer { losses in
                let (groups, losses) = (Unchecked(groups), Unchecked(losses))
                threads.run { g in
                  losses.value[g] = groups.value[g].step(
                    shared.sources, targetRows: shared.rows, targets: groupTargets[g], train: train)
                }
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

/// The rows every group reads, lent to the worker threads for one run.
private struct Shared: @unchecked Sendable {
  /// Pointers to the rows' features (D each).
  let sources: UnsafeBufferPointer<UnsafePointer<Float>>
  /// The rows' indices into the targets.
  let rows: UnsafeBufferPointer<Int>
}

/// A buffer lent to the worker threads for one step; each touches only its own element.
private struct Unchecked<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
