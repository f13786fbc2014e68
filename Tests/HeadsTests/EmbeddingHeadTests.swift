// The colour-wheel embedding head through MultiHeadModel: finite-difference gradients of the
// whole model (Dense layers and class vectors), and a known-answer problem whose features encode
// the hue angle, trained from randomly placed class vectors.

import Foundation
import Support
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
        let theta = 2 * Double.pi * (Double(c) + (generator.nextUnit() - 0.5) * 0.9) / Double(classes)
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
    let run = trainWheel(train: train, test: test, width: width, sigma: 0.5)
    print(
      "hue wheel: test accuracy \(run.metrics.accuracy), mean wheel distance \(run.metrics.meanWheelDistance), "
        + "class-vector distance neighbours \(run.neighbour), opposites \(run.opposite)")
    XCTAssertEqual(run.metrics.count, 480)
    XCTAssertGreaterThan(run.metrics.accuracy, 0.9)
    XCTAssertLessThan(run.metrics.meanWheelDistance, 0.1)
    XCTAssertLessThan(run.neighbour, run.opposite)
  }

  /// Trains a default embedding head (wheel sigma `sigma`) from random class vectors for 20
  /// epochs; returns test metrics and the mean class-vector distance of wheel neighbours and of
  /// opposite classes.
  private func trainWheel(
    train: (features: [Float], labels: [Int32]), test: (features: [Float], labels: [Int32]), width: Int,
    sigma: Double
  ) -> (metrics: EmbeddingMetrics, neighbour: Double, opposite: Double) {
    let spec = HeadSpec.embedding(name: "hue", wheelSigma: sigma)
    let classes = spec.wheelClasses.count
    var model = MultiHeadModel(specs: [spec], inputWidth: width, seed: 5)
    var generator = SplitMix64(seed: 77)
    for i in model.classVectorSlots[0] { model.parameters[i] = Float(generator.nextGaussian() * 0.5) }
    var optimizer = Optimizer(.adam(learningRate: 0.01), parameterCount: model.parameters.count)
    let rows = train.labels.count
    for epoch in 0..<20 {
      let batches = epochBatches(rows: rows, batchSize: 32, epoch: epoch, seed: 9, shuffle: true)
      _ = trainEpoch(
        &model, optimizer: &optimizer, features: train.features, targets: [HeadTargets.wheel(train.labels)],
        batches: batches)
    }
    let predicted = model.predict(features: test.features)[0].map { Int($0) }
    let v = Array(model.parameters[model.classVectorSlots[0]])
    func distance(_ a: Int, _ b: Int) -> Double {
      (0..<spec.dimensions).reduce(0.0) { s, k in
        let d = Double(v[a * spec.dimensions + k] - v[b * spec.dimensions + k])
        return s + d * d
      }.squareRoot()
    }
    return (
      embeddingMetrics(predictions: predicted, labels: test.labels, classes: classes),
      (0..<classes).map { distance($0, ($0 + 1) % classes) }.reduce(0, +) / Double(classes),
      (0..<classes).map { distance($0, ($0 + classes / 2) % classes) }.reduce(0, +) / Double(classes)
    )
  }

  /// Features that carry NO wheel geometry: each class is a random unit direction in 32
  /// dimensions, x = normalise(m_c + 0.15 z). Whatever wheel order the class vectors end up in
  /// comes from the loss alone. The wheel-smoothed head (default sigma 0.5) must order them, and do so
  /// much more than the control (sigma 0.05, i.e. plain one-hot prototype cross-entropy).
  func testWheelOrderComesFromTheLoss() {
    let classes = 12
    let width = 32
    var generator = SplitMix64(seed: 31)
    let directions = (0..<classes).map { _ in (0..<width).map { _ in generator.nextGaussian() } }
    func sample(_ n: Int) -> (features: [Float], labels: [Int32]) {
      var features: [Float] = []
      var labels: [Int32] = []
      for _ in 0..<n {
        let c = generator.nextIndex(below: classes)
        var x = directions[c].map { $0 / Double(width).squareRoot() + 0.15 * generator.nextGaussian() }
        let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
        x = x.map { $0 / norm }
        features += x.map { Float($0) }
        labels.append(Int32(c))
      }
      return (features, labels)
    }
    let train = sample(960)
    let test = sample(480)
    let wheel = trainWheel(train: train, test: test, width: width, sigma: 0.5)
    let control = trainWheel(train: train, test: test, width: width, sigma: 0.05)
    for (name, run) in [("sigma 0.5", wheel), ("sigma 0.05 (control)", control)] {
      print(
        "random class codes, \(name): accuracy \(run.metrics.accuracy), mean wheel distance "
          + "\(run.metrics.meanWheelDistance), neighbours \(run.neighbour), opposites \(run.opposite), "
          + "ratio \(run.neighbour / run.opposite)")
    }
    XCTAssertGreaterThan(wheel.metrics.accuracy, 0.95)
    XCTAssertLessThan(wheel.metrics.meanWheelDistance, 0.1)
    XCTAssertLessThan(wheel.neighbour / wheel.opposite, 0.8)
    XCTAssertGreaterThan(control.neighbour / control.opposite, 0.9)
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
