// A head much wider than the others is split by first-layer units between the two groups of
// HeadsTrainer (SplitHead.swift): the plan, and that the split head trains to the parameters
// the unsplit one reaches (and one model on one thread reaches), within float rounding, with
// Adam (kernel gradient fused into the update) and SGD, dropout on the wide head's hidden
// layer, rows read in place or copied per batch, and validation losses.

import Support
import XCTest

@testable import Heads

final class SplitHeadTests: XCTestCase {
  private let d = 40

  /// A softmax head with a 40-unit hidden layer (with dropout) beside three small heads.
  private var specs: [HeadSpec] {
    var wide = HeadSpec(name: "genre", kind: .softmax, outputs: 5, hidden: [40], lossWeight: 0.8)
    wide.dropout = 0.25
    return [
      HeadSpec(name: "score", kind: .tanh, outputs: 1), wide, HeadSpec(name: "tags", kind: .sigmoid, outputs: 2),
      .embedding(name: "hue", dimensions: 3, wheelClasses: ["a", "b", "c", "d", "e"], lossWeight: 0.7),
    ]
  }

  private func data(rows: Int, seed: UInt64) -> (features: [Float], targets: [HeadTargets]) {
    var g = SplitMix64(seed: seed)
    let features = (0..<(rows * d)).map { _ in Float(g.nextGaussian() * 0.5) }
    let targets = [
      HeadTargets.regression(
        (0..<rows).map { $0 % 7 == 3 ? .nan : Float(1 + g.nextIndex(below: 10)) }, low: 1, high: 10),
      HeadTargets.classes((0..<rows).map { $0 % 5 == 1 ? -1 : Int32(g.nextIndex(below: 5)) }, count: 5),
      HeadTargets.multiLabel((0..<(rows * 2)).map { _ in Float(g.nextIndex(below: 2)) }, labelCount: 2),
      HeadTargets.wheel((0..<rows).map { $0 % 6 == 2 ? -1 : Int32(g.nextIndex(below: 5)) }),
    ]
    return (features, targets)
  }

  func testTheWideHeadIsSplitSoTheGroupsAreEven() {
    let model = MultiHeadModel(specs: specs, inputWidth: d, seed: 1)
    let plan = HeadsTrainer.plan(model: model, groups: 2)
    // Costs (units, loss): genre (40, 3), hue (3, 0.9), tags (2, 0.6), score (1, 0.6). By loss,
    // genre's tail is one group and the small heads the other (6 units): genre gives that group
    // 17 of its units, 23 each.
    XCTAssertEqual(plan.split, HeadsTrainer.Split(head: 1, owner: 0, helper: 1, remoteUnits: 23..<40))
    XCTAssertEqual(plan.shares[0], [HeadShare(head: 1, units: 0..<23, tail: true)])
    XCTAssertEqual(plan.shares[1].last, HeadShare(head: 1, units: 23..<40, tail: false))
    XCTAssertEqual(plan.shares[1].dropLast().map(\.head), [0, 2, 3])
    XCTAssertNil(HeadsTrainer.plan(model: model, groups: 2, split: false).split)
    XCTAssertNil(HeadsTrainer.plan(model: model, groups: 1).split)
    // Heads of about equal width are never split.
    let even = MultiHeadModel(
      specs: [
        HeadSpec(name: "a", kind: .softmax, outputs: 10), HeadSpec(name: "b", kind: .softmax, outputs: 8),
        HeadSpec(name: "c", kind: .tanh, outputs: 1),
      ], inputWidth: d, seed: 2)
    XCTAssertNil(HeadsTrainer.plan(model: even, groups: 2).split)

    // The benchmark's six heads (Benchmarks/bench_fit_heads.py) on D = 2048: linear, whole heads
    // in two groups; with a 64-unit hidden layer on genre, the losses even (genre's later layer
    // and two linear heads against the embedding head and two others) and 32 of genre's units
    // to the other group, 43 and 44 units.
    var six = [
      HeadSpec(name: "style", kind: .softmax, outputs: 10), HeadSpec(name: "genre", kind: .softmax, outputs: 5),
      HeadSpec(name: "portrait", kind: .sigmoid, outputs: 1), HeadSpec(name: "people", kind: .sigmoid, outputs: 1),
      HeadSpec(name: "quality", kind: .tanh, outputs: 1), .embedding(name: "hue", dimensions: 10),
    ]
    XCTAssertNil(HeadsTrainer.plan(model: MultiHeadModel(specs: six, inputWidth: 2048, seed: 3), groups: 2).split)
    six[1].hidden = [64]
    let wide = HeadsTrainer.plan(model: MultiHeadModel(specs: six, inputWidth: 2048, seed: 3), groups: 2)
    XCTAssertEqual(wide.split, HeadsTrainer.Split(head: 1, owner: 1, helper: 0, remoteUnits: 32..<64))
    XCTAssertEqual(wide.shares[1].map(\.head), [0, 1, 3])
    XCTAssertEqual(wide.shares[0].map(\.head), [2, 4, 5, 1])
  }

  func testSplitHeadTrainsLikeTheUnsplitOne() {
    let model = MultiHeadModel(specs: specs, inputWidth: d, seed: 3)
    let (x, targets) = data(rows: 150, seed: 4)
    for optimizer in [OptimizerKind.adam(learningRate: 0.01), .sgd(learningRate: 0.05, momentum: 0.9)] {
      var single = model
      var reference = Optimizer(optimizer, parameterCount: model.parameters.count, weightDecay: 0.01)
      let split = HeadsTrainer(model: model, optimizer: optimizer, weightDecay: 0.01, batchSize: 32)
      let whole = HeadsTrainer(model: model, optimizer: optimizer, weightDecay: 0.01, batchSize: 32, split: false)
      var worstLoss = 0.0
      for epoch in 0..<3 {
        let batches = epochBatches(rows: 150, batchSize: 32, epoch: epoch, seed: 5, shuffle: true)
        let maskSeed = UInt64(100 + epoch)
        let a = trainEpoch(
          &single, optimizer: &reference, features: x, targets: targets, batches: batches, maskSeed: maskSeed)
        // Rows read in place on odd epochs, copied per batch on even ones.
        let losses = [split, whole].map { trainer in
          trainer.trainEpoch(targets: targets, maskSeed: maskSeed, rowsStayValid: epoch % 2 == 1) { push in
            x.withUnsafeBufferPointer { x in
              for row in batches.joined() { push(UnsafeBufferPointer(rebasing: x[(row * d)..<((row + 1) * d)]), row) }
            }
          }
        }
        for b in losses {
          worstLoss = max(worstLoss, abs(a.total - b.total), zip(a.heads, b.heads).map { abs($0 - $1) }.max()!)
        }
      }
      let splitModel = split.model.parameters
      let differences = [
        maxDifference(splitModel, whole.model.parameters), maxDifference(splitModel, single.parameters),
      ]
      print(
        "\(optimizer): split head vs unsplit after 3 epochs: max |parameter difference| \(differences[0]); "
          + "vs one model \(differences[1]); max |loss difference| \(worstLoss)")
      XCTAssertLessThanOrEqual(differences.max()!, 1e-6)
      XCTAssertLessThanOrEqual(worstLoss, 1e-6)
      XCTAssertNotEqual(splitModel, model.parameters, "training moved the parameters")

      // Validation losses too, in blocks larger than a batch.
      let val = data(rows: 300, seed: 6)
      let feed = { (push: (UnsafeBufferPointer<Float>, Int) -> Void) in
        val.features.withUnsafeBufferPointer { x in
          for row in 0..<300 { push(UnsafeBufferPointer(rebasing: x[(row * self.d)..<((row + 1) * self.d)]), row) }
        }
      }
      for rowsStayValid in [true, false] {
        let a = split.evaluateLoss(targets: val.targets, rowsStayValid: rowsStayValid, rows: feed)
        let b = whole.evaluateLoss(targets: val.targets, rowsStayValid: rowsStayValid, rows: feed)
        XCTAssertEqual(a.total, b.total, accuracy: 1e-6)
        for h in 0..<4 { XCTAssertEqual(a.heads[h], b.heads[h], accuracy: 1e-6) }
      }
    }
  }

  private func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
  }
}
