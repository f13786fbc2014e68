// Keras parity of training: Tests/Fixtures/make_keras_training_fixtures.py trained a three-head
// model (tanh score, softmax harmony with a ReLU hidden layer, sigmoid tags; loss weights 1, 0.5,
// 2; masked missing labels) with real Keras 3.15.1 from saved initial weights, batches in order.
// The same training here must end at the same weights (1e-5) and report the same losses. Two
// runs add Keras 3's decoupled weight decay (Adam and SGD with `weight_decay`).

import Foundation
import Heads
import XCTest

private struct TrainingManifest: Decodable {
  struct Run: Decodable {
    var name: String
    var optimizer: [String: OptimizerValue]
    var epochs: Int
    var batches: [[Int]]
    var final_weights: String
    var after_first_batch_weights: String
    var epoch_losses: [String: [Double]]
  }
  enum OptimizerValue: Decodable {
    case number(Double)
    case text(String)
    case flag(Bool)
    init(from decoder: Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let flag = try? container.decode(Bool.self) {
        self = .flag(flag)
      } else if let number = try? container.decode(Double.self) {
        self = .number(number)
      } else {
        self = .text(try container.decode(String.self))
      }
    }
    var number: Double {
      if case .number(let value) = self { return value }
      return 0
    }
  }
  var runs: [Run]
}

final class KerasTrainingParityTests: XCTestCase {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/keras_training")

  private func floats(_ file: String) throws -> [Float] {
    let data = try Data(contentsOf: Self.directory.appendingPathComponent(file))
    return data.withUnsafeBytes { raw in
      (0..<(data.count / 4)).map {
        Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
      }
    }
  }

  private func ints(_ file: String) throws -> [Int32] {
    try floats(file).map { Int32(bitPattern: $0.bitPattern) }
  }

  private let specs = [
    HeadSpec(name: "score", kind: .tanh, outputs: 1, lossWeight: 1),
    HeadSpec(name: "harmony", kind: .softmax, outputs: 6, hidden: [16], lossWeight: 0.5),
    HeadSpec(name: "tags", kind: .sigmoid, outputs: 3, lossWeight: 2),
  ]

  private func optimizerKind(_ settings: [String: TrainingManifest.OptimizerValue]) throws -> OptimizerKind {
    let lr = settings["learning_rate"]?.number ?? 0
    guard case .text(let name)? = settings["class"] else { throw XCTSkip("no optimizer class") }
    switch name {
    case "SGD":
      if case .flag(true)? = settings["nesterov"] {
        return .sgd(learningRate: lr, momentum: settings["momentum"]?.number ?? 0, nesterov: true)
      }
      return .sgd(learningRate: lr, momentum: settings["momentum"]?.number ?? 0)
    case "Adam":
      return .adam(
        learningRate: lr, beta1: settings["beta_1"]!.number, beta2: settings["beta_2"]!.number,
        epsilon: settings["epsilon"]!.number)
    case "Adamax":
      return .adamax(
        learningRate: lr, beta1: settings["beta_1"]!.number, beta2: settings["beta_2"]!.number,
        epsilon: settings["epsilon"]!.number)
    case "RMSprop":
      return .rmsprop(
        learningRate: lr, rho: settings["rho"]!.number, momentum: settings["momentum"]?.number ?? 0,
        epsilon: settings["epsilon"]!.number)
    default:
      throw XCTSkip("optimizer \(name) not supported")
    }
  }

  func testEveryRunEndsAtKerasWeightsAndReportsKerasLosses() throws {
    let manifest = try JSONDecoder().decode(
      TrainingManifest.self, from: Data(contentsOf: Self.directory.appendingPathComponent("manifest.json")))
    let features = try floats("data/x.f32")
    let targets = [
      HeadTargets.regression(try floats("data/score.f32"), low: 1, high: 10),
      HeadTargets.classes(try ints("data/harmony.i32"), count: 6),
      HeadTargets.multiLabel(try floats("data/tags.f32"), labelCount: 3),
    ]
    let initial = try floats("initial_weights.f32")
    XCTAssertEqual(initial.count, MultiHeadModel.parameterCount(specs: specs, inputWidth: 32))
    XCTAssertEqual(manifest.runs.count, 7)
    for run in manifest.runs {
      let batches = run.batches.map { $0[0]..<$0[1] }
      let kind = try optimizerKind(run.optimizer)
      // Keras 3's decoupled weight decay (runs adam_weight_decay, sgd_weight_decay).
      let decay = run.optimizer["weight_decay"]?.number

      // One step, then the whole run.
      var model = MultiHeadModel(specs: specs, inputWidth: 32, parameters: initial)
      var optimizer = Optimizer(kind, parameterCount: initial.count, weightDecay: decay)
      _ = trainEpoch(&model, optimizer: &optimizer, features: features, targets: targets, batches: [batches[0]])
      let firstStep = maxDifference(model.parameters, try floats(run.after_first_batch_weights))

      model = MultiHeadModel(specs: specs, inputWidth: 32, parameters: initial)
      optimizer = Optimizer(kind, parameterCount: initial.count, weightDecay: decay)
      var worstLoss = 0.0
      for epoch in 0..<run.epochs {
        let losses = trainEpoch(&model, optimizer: &optimizer, features: features, targets: targets, batches: batches)
        let keras = [
          run.epoch_losses["score_loss"]![epoch], run.epoch_losses["harmony_loss"]![epoch],
          run.epoch_losses["tags_loss"]![epoch],
        ]
        for h in 0..<3 { worstLoss = max(worstLoss, abs(losses.heads[h] - keras[h])) }
        worstLoss = max(worstLoss, abs(losses.total - run.epoch_losses["loss"]![epoch]))
      }
      let final = maxDifference(model.parameters, try floats(run.final_weights))
      print(
        "training parity \(run.name): max |weights - keras| after 1 step \(firstStep), after \(run.epochs) "
          + "epoch(s) \(final); max |epoch loss - keras| \(worstLoss)")
      XCTAssertLessThanOrEqual(firstStep, 1e-5, run.name)
      XCTAssertLessThanOrEqual(final, 1e-5, run.name)
      XCTAssertLessThanOrEqual(worstLoss, 1e-5, run.name)
    }
  }

  private func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
  }
}
