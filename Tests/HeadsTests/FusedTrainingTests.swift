// The fused trainer (one GEMM for every head's first layer, packed parameters, two parallel
// groups of heads) against the plain per-head reference `MultiHeadModel.lossAndGradient`, and
// dropout: a finite-difference check with fixed masks and the masks' statistics.

import Support
import XCTest

@testable import Heads

final class FusedTrainingTests: XCTestCase {
  private let d = 24
  private let batch = 16

  /// A tanh head, a softmax head with a hidden layer, a sigmoid head, an embedding head and,
  /// when `dropout` > 0, dropout on the softmax head's hidden layer and on the sigmoid head's input.
  private func specs(dropout: Float = 0) -> [HeadSpec] {
    var softmax = HeadSpec(name: "harmony", kind: .softmax, outputs: 4, hidden: [6], lossWeight: 0.5)
    softmax.dropout = dropout
    var sigmoid = HeadSpec(name: "tags", kind: .sigmoid, outputs: 2, lossWeight: 2)
    sigmoid.dropout = dropout * 0.6
    return [
      HeadSpec(name: "score", kind: .tanh, outputs: 1), softmax, sigmoid,
      .embedding(name: "hue", dimensions: 3, wheelClasses: ["a", "b", "c", "d", "e"], lossWeight: 0.7),
    ]
  }

  private func data(rows: Int, seed: UInt64) -> (features: [Float], targets: [HeadTargets]) {
    var g = SplitMix64(seed: seed)
    let features = (0..<(rows * d)).map { _ in Float(g.nextGaussian() * 0.5) }
    let targets = [
      HeadTargets.regression(
        (0..<rows).map { $0 % 7 == 3 ? .nan : Float(1 + g.nextIndex(below: 10)) }, low: 1, high: 10),
      HeadTargets.classes((0..<rows).map { $0 % 5 == 1 ? -1 : Int32(g.nextIndex(below: 4)) }, count: 4),
      HeadTargets.multiLabel((0..<(rows * 2)).map { _ in Float(g.nextIndex(below: 2)) }, labelCount: 2),
      HeadTargets.wheel((0..<rows).map { $0 % 6 == 2 ? -1 : Int32(g.nextIndex(below: 5)) }),
    ]
    return (features, targets)
  }

  private func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
  }

  func testFusedLossAndGradientMatchTheReference() {
    // With dropout rates set but not applied, the sigmoid head (input dropout) is not fused:
    // both paths, fused and not, are checked at once.
    let model = MultiHeadModel(specs: specs(dropout: 0.5), inputWidth: d, seed: 3)
    let (x, targets) = data(rows: batch, seed: 4)
    var reference = [Float](repeating: 0, count: model.parameters.count)
    let expected = x.withUnsafeBufferPointer { x in
      reference.withUnsafeMutableBufferPointer {
        model.lossAndGradient(features: x, targets: targets, rows: 0..<batch, gradients: $0)
      }
    }
    var trainer = FusedTrainer(model: model, capacity: batch)
    XCTAssertNil(trainer.layout.fusedColumns[2], "the input-dropout head must not share the fused product")
    XCTAssertEqual(trainer.layout.fusedWidth, 1 + 6 + 3)
    Array(0..<batch).withUnsafeBufferPointer { trainer.setTargets(rows: $0, from: targets) }
    let losses = x.withUnsafeBufferPointer { trainer.lossAndGradient($0, batch: batch, dropout: false, backward: true) }
    var gradient = [Float](repeating: 0, count: model.parameters.count)
    trainer.layout.unpack(trainer.gradients, into: &gradient)
    var roundTrip = [Float](repeating: 0, count: model.parameters.count)
    trainer.layout.unpack(trainer.parameters, into: &roundTrip)
    let gradientDifference = maxDifference(gradient, reference)
    let lossDifference = zip(losses.heads, expected.heads).map { abs($0 - $1) }.max()!
    print(
      "fused vs reference: max |gradient difference| \(gradientDifference), max |loss difference| \(lossDifference)")
    XCTAssertEqual(roundTrip, model.parameters)
    XCTAssertLessThanOrEqual(gradientDifference, 1e-6)
    XCTAssertLessThanOrEqual(lossDifference, 1e-6)
    XCTAssertEqual(losses.total, expected.total, accuracy: 1e-6)
  }

  func testParallelGroupsTrainAsOneModel() {
    let model = MultiHeadModel(specs: specs(), inputWidth: d, seed: 5)
    let (x, targets) = data(rows: 100, seed: 6)
    var single = model
    var optimizer = Optimizer(.adam(learningRate: 0.01), parameterCount: model.parameters.count, weightDecay: 0.01)
    let trainer = HeadsTrainer(model: model, optimizer: .adam(learningRate: 0.01), weightDecay: 0.01, batchSize: 32)
    var worstLoss = 0.0
    for epoch in 0..<3 {
      let batches = epochBatches(rows: 100, batchSize: 32, epoch: epoch, seed: 7, shuffle: true)
      let a = trainEpoch(&single, optimizer: &optimizer, features: x, targets: targets, batches: batches)
      // Rows by reference on odd epochs (each group gathers its own copy), copied once on even ones.
      let b = trainer.trainEpoch(targets: targets, rowsStayValid: epoch % 2 == 1) { push in
        x.withUnsafeBufferPointer { x in
          for row in batches.joined() { push(UnsafeBufferPointer(rebasing: x[(row * d)..<((row + 1) * d)]), row) }
        }
      }
      worstLoss = max(worstLoss, abs(a.total - b.total), zip(a.heads, b.heads).map { abs($0 - $1) }.max()!)
    }
    let difference = maxDifference(single.parameters, trainer.model.parameters)
    print(
      "two groups vs one model after 3 epochs: max |parameter difference| \(difference), max |loss difference| \(worstLoss)"
    )
    XCTAssertLessThanOrEqual(difference, 1e-6)
    XCTAssertLessThanOrEqual(worstLoss, 1e-6)
    // Validation losses agree with the reference too.
    let val = data(rows: 300, seed: 8)
    let expected = evaluateLoss(of: single, targets: val.targets) { push in
      val.features.withUnsafeBufferPointer { x in
        for row in 0..<300 { push(UnsafeBufferPointer(rebasing: x[(row * d)..<((row + 1) * d)]), row) }
      }
    }
    var reference = [Float](repeating: 0, count: model.parameters.count)
    let whole = val.features.withUnsafeBufferPointer { x in
      reference.withUnsafeMutableBufferPointer {
        single.lossAndGradient(features: x, targets: val.targets, rows: 0..<300, gradients: $0)
      }
    }
    let parallel = trainer.evaluateLoss(targets: val.targets) { push in
      val.features.withUnsafeBufferPointer { x in
        for row in 0..<300 { push(UnsafeBufferPointer(rebasing: x[(row * d)..<((row + 1) * d)]), row) }
      }
    }
    XCTAssertEqual(expected.total, whole.total, accuracy: 1e-5)
    XCTAssertEqual(parallel.total, whole.total, accuracy: 1e-5)
  }

  func testDropoutGradientMatchesFiniteDifferencesWithFixedMasks() {
    let model = MultiHeadModel(specs: specs(dropout: 0.4), inputWidth: d, seed: 9)
    let (x, targets) = data(rows: batch, seed: 10)
    var trainer = FusedTrainer(model: model, capacity: batch, maskSeed: 11)
    Array(0..<batch).withUnsafeBufferPointer { trainer.setTargets(rows: $0, from: targets) }
    let masks = trainer.masks
    func loss(_ t: inout FusedTrainer) -> Double {
      t.masks = masks  // the same masks every time
      return x.withUnsafeBufferPointer { t.lossAndGradient($0, batch: batch, dropout: true, backward: true) }.total
    }
    _ = loss(&trainer)
    let gradient = trainer.gradients
    // The parameters dropout acts on without a ReLU in between: the harmony head's output layer
    // (its input is the dropped hidden layer) and the tags head (its input is the dropped
    // features), with steps of 1e-2; and the harmony head's hidden layer (a column block of the
    // fused kernel, gradients through the mask and the ReLU) with steps of 1e-3, small enough not
    // to cross the ReLU's kink for these rows (1e-2 does, for a few units).
    let layers = [trainer.layout.slots[1][1], trainer.layout.slots[2][0]]
    let outer = layers.flatMap { Array($0.kernel) + Array($0.bias) }.map { ($0, Float(1e-2)) }
    // The fused kernel is stored as Keras stores a kernel, (D, T): unit c's weights are column c.
    let columns = trainer.layout.fusedColumns[1]!
    let t = trainer.layout.fusedWidth
    let hiddenIndices =
      columns.flatMap { c in (0..<d).map { $0 * t + c } } + columns.map { trainer.layout.fusedBias.lowerBound + $0 }
    let indices = outer + hiddenIndices.map { ($0, Float(1e-3)) }
    var worst = 0.0
    for (i, h) in indices {
      var probe = trainer
      let saved = probe.parameters[i]
      probe.parameters[i] = saved + h
      let up = loss(&probe)
      probe.parameters[i] = saved - h
      let down = loss(&probe)
      let numeric = (up - down) / (2 * Double(h))
      let error = abs(numeric - Double(gradient[i])) / max(abs(numeric), abs(Double(gradient[i])), 1e-2)
      worst = max(worst, error)
    }
    print(
      "dropout gradient vs central differences (\(indices.count) parameters, fixed masks): max relative error \(worst)")
    XCTAssertLessThan(worst, 1e-2)
  }

  func testDropoutKeepsOneMinusRateAndScalesLikeKeras() {
    var generator = SplitMix64(seed: 13)
    let keep = UnsafeMutableBufferPointer<Float>.allocate(capacity: 200_000)
    defer { keep.deallocate() }
    drawMask(keep, rate: 0.3, using: &generator)
    let kept = Double(keep.reduce(0, +)) / Double(keep.count)
    print("dropout 0.3: kept fraction \(kept) of 200000 units")
    XCTAssertEqual(kept, 0.7, accuracy: 0.005)  // 5 standard deviations

    // In training a hidden unit is 0 or its ReLU output / (1 - rate); at validation it is the
    // ReLU output, and validation twice gives the same loss.
    let rate: Float = 0.5
    let model = MultiHeadModel(specs: specs(dropout: rate), inputWidth: d, seed: 14)
    let (x, targets) = data(rows: batch, seed: 15)
    var trainer = FusedTrainer(model: model, capacity: batch, maskSeed: 16)
    Array(0..<batch).withUnsafeBufferPointer { trainer.setTargets(rows: $0, from: targets) }
    let hidden = trainer.workspace.view(trainer.workspace.outputs[1][0], batch * 6)
    let plain = x.withUnsafeBufferPointer { trainer.lossAndGradient($0, batch: batch, dropout: false, backward: false) }
    let clean = Array(hidden)
    let again = x.withUnsafeBufferPointer { trainer.lossAndGradient($0, batch: batch, dropout: false, backward: false) }
    XCTAssertEqual(plain, again)
    let dropped = x.withUnsafeBufferPointer {
      trainer.lossAndGradient($0, batch: batch, dropout: true, backward: false)
    }
    XCTAssertNotEqual(dropped.total, plain.total)
    var (positive, keptUnits) = (0, 0)
    for (a, b) in zip(clean, hidden) where a > 0 {
      positive += 1
      if b != 0 {
        keptUnits += 1
        XCTAssertEqual(b, a / (1 - rate), accuracy: 1e-6 * max(1, abs(b)))
      }
    }
    XCTAssertGreaterThan(keptUnits, positive / 5)
    XCTAssertLessThan(keptUnits, positive * 4 / 5)
  }
}
