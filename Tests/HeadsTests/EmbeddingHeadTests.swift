// The colour-wheel embedding head through MultiHeadModel: finite-difference gradients of the
// whole model (Dense layers and class vectors), and a known-answer problem whose features encode
// the hue angle, trained from randomly placed class vectors.

import Foundation
import XCTest

@testable import Heads

final class EmbeddingHeadTests: XCTestCase {
  private func totalLoss(_ model: MultiHeadModel, features: [Float], targets: [HeadTargets], rows: Int) -> (
    loss: Double, gradient: [Float]
  ) {
    var gradient = [Float](repeating: 0, count: model.parameters.count)
    let losses = features.withUnsafeBufferPointer { x in
      gradient.withUnsafeMutableBufferPointer { g in
        model.lossAndGradient(features: x, targets: targets, rows: 0..<rows, gradients: g)
      }
    }
    return (losses.total, gradient)
  }

  func testWholeModelGradientMatchesFiniteDifferences() {
    let width = 5
    let rows = 6
    let specs = [
      HeadSpec.embedding(
        name: "hue", dimensions: 3, wheelClasses: ["a", "b", "c", "d", "e"], hidden: [4], lossWeight: 0.7),
      HeadSpec(name: "class", kind: .softmax, outputs: 3),
    ]
    var model = MultiHeadModel(specs: specs, inputWidth: width, seed: 3)
    // Non-zero biases so every parameter's gradient is exercised away from the init's symmetries.
    var generator = SplitMix64(seed: 11)
    for i in model.parameters.indices { model.parameters[i] += Float(generator.nextGaussian() * 0.1) }
    let features = (0..<(rows * width)).map { _ in Float(generator.nextGaussian()) }
    let targets = [
      HeadTargets.wheel([0, 4, -1, 2, 1, 3]), HeadTargets.classes([0, 1, 2, -1, 1, 0], count: 3),
    ]
    XCTAssertEqual(model.classVectorSlots[0].count, 5 * 3)
    XCTAssertEqual(model.classVectorSlots[0].upperBound, model.slots[1][0].kernel.lowerBound)
    // Central differences are only valid away from the ReLU kink: no hidden pre-activation may
    // change sign under a step h of one parameter (a step of 1e-2 did cross it here).
    let h: Float = 2e-3
    let hidden = model.slots[0][0]
    var margin = Float.infinity
    for r in 0..<rows {
      for j in 0..<hidden.outputs {
        var a = model.parameters[hidden.bias.lowerBound + j]
        for k in 0..<width { a += features[r * width + k] * model.parameters[hidden.kernel.lowerBound + k * 4 + j] }
        let reach = h * (0..<width).reduce(Float(1)) { max($0, abs(features[r * width + $1])) }
        margin = min(margin, abs(a) - reach)
      }
    }
    XCTAssertGreaterThan(margin, 0, "a hidden pre-activation lies within one step of the ReLU kink")
    let analytic = totalLoss(model, features: features, targets: targets, rows: rows).gradient
    var worst: Float = 0
    var probe = model
    for i in model.parameters.indices {
      probe.parameters[i] = model.parameters[i] + h
      let up = totalLoss(probe, features: features, targets: targets, rows: rows).loss
      probe.parameters[i] = model.parameters[i] - h
      let down = totalLoss(probe, features: features, targets: targets, rows: rows).loss
      probe.parameters[i] = model.parameters[i]
      let numeric = Float((up - down) / (2 * Double(h)))
      worst = max(worst, abs(analytic[i] - numeric) / max(abs(numeric), 1e-2))
    }
    print("embedding head, whole-model gradient vs finite differences: max relative error \(worst)")
    XCTAssertLessThan(worst, 5e-3)
  }

  /// Features x = normalise([cos θ, sin θ, 0.3 z]) with θ the hue angle of the class plus jitter
  /// and z ~ N(0, I_14) noise. The class vectors start at random (not on the initial circle), so
  /// that the wheel order of the learned vectors is learned, not inherited.
  func testKnownAnswerHueWheel() {
    let classes = 12
    let width = 16
    var generator = SplitMix64(seed: 2024)
    func sample(_ n: Int) -> (features: [Float], labels: [Int32]) {
      var features: [Float] = []
      var labels: [Int32] = []
      for _ in 0..<n {
        let c = generator.nextIndex(below: classes)
        let theta = 2 * Double.pi * (Double(c) + (generator.nextUnit() - 0.5) * 0.6) / Double(classes)
        var x = [cos(theta), sin(theta)] + (2..<width).map { _ in 0.3 * generator.nextGaussian() }
        let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
        x = x.map { $0 / norm }
        features += x.map { Float($0) }
        labels.append(Int32(c))
      }
      return (features, labels)
    }
    let train = sample(960)
    let test = sample(480)
    let spec = HeadSpec.embedding(name: "hue")
    var model = MultiHeadModel(specs: [spec], inputWidth: width, seed: 5)
    let vectors = model.classVectorSlots[0]
    for i in vectors { model.parameters[i] = Float(generator.nextGaussian() * 0.5) }
    var optimizer = Optimizer(.adam(learningRate: 0.01), parameterCount: model.parameters.count)
    let targets = [HeadTargets.wheel(train.labels)]
    var last = HeadLosses(heads: [], total: 0)
    for epoch in 0..<20 {
      let batches = epochBatches(rows: 960, batchSize: 32, epoch: epoch, seed: 9, shuffle: true)
      last = trainEpoch(&model, optimizer: &optimizer, features: train.features, targets: targets, batches: batches)
    }
    let predicted = model.predict(features: test.features)[0].map { Int($0) }
    let metrics = embeddingMetrics(predictions: predicted, labels: test.labels, classes: classes)
    let v = Array(model.parameters[vectors])
    func distance(_ a: Int, _ b: Int) -> Double {
      (0..<spec.dimensions).reduce(0.0) { s, k in
        let d = Double(v[a * spec.dimensions + k] - v[b * spec.dimensions + k])
        return s + d * d
      }.squareRoot()
    }
    let neighbour = (0..<classes).map { distance($0, ($0 + 1) % classes) }.reduce(0, +) / Double(classes)
    let opposite = (0..<classes).map { distance($0, ($0 + 6) % classes) }.reduce(0, +) / Double(classes)
    print(
      "hue wheel: final train loss \(last.total), test accuracy \(metrics.accuracy), mean wheel distance "
        + "\(metrics.meanWheelDistance), class-vector distance neighbours \(neighbour), opposites \(opposite)")
    XCTAssertEqual(metrics.count, 480)
    XCTAssertGreaterThan(metrics.accuracy, 0.8)
    XCTAssertLessThan(metrics.meanWheelDistance, 0.25)
    XCTAssertLessThan(neighbour, opposite)
  }

  func testMetricsAndEncoding() throws {
    let metrics = embeddingMetrics(predictions: [0, 11, 6, 3, 5], labels: [0, 1, 0, -1, 5], classes: 12)
    XCTAssertEqual(metrics.count, 4)
    XCTAssertEqual(metrics.accuracy, 0.5)
    XCTAssertEqual(metrics.meanWheelDistance, (0 + 2 + 6 + 0) / 4.0)
    let json = String(decoding: try JSONEncoder().encode(metrics), as: UTF8.self)
    XCTAssertTrue(json.contains("\"mean_wheel_distance\":2"), json)
    XCTAssertEqual(try JSONDecoder().decode(EmbeddingMetrics.self, from: Data(json.utf8)), metrics)
    XCTAssertEqual(embeddingMetrics(predictions: [], labels: [], classes: 12).count, 0)
  }
}
