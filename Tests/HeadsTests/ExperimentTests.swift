// The learning-rate experiment behind TrainingDefaults (see Sources/Heads/Defaults.swift);
// skipped unless HEADS_EXPERIMENT_WIDTH is set, since it takes tens of seconds at D 2048.

import Heads
import XCTest

final class DefaultsExperimentTests: XCTestCase {
  func testExperiment() throws {
    let env = ProcessInfo.processInfo.environment
    guard let w = env["HEADS_EXPERIMENT_WIDTH"].flatMap(Int.init) else { throw XCTSkip("experiment only") }
    let epochs = env["HEADS_EXPERIMENT_EPOCHS"].flatMap(Int.init) ?? 10
    let latent = env["HEADS_EXPERIMENT_LATENT"].flatMap(Int.init)
    let offset = env["HEADS_EXPERIMENT_OFFSET"].flatMap(Double.init) ?? 0
    let problem = TeacherProblem(rows: 2000, width: w, seed: 1, latent: latent, offset: offset)
    print("D=\(w) teacher flag acc \(fmt(problem.teacherFlagAccuracy(rows: 1600..<2000)))")
    for lr in [0.001, 0.003, 0.01, 0.03, 0.1] {
      let s = problem.trainAndEvaluate(optimizer: .adam(learningRate: lr), epochs: epochs)
      print("D=\(w) epochs=\(epochs) adam lr=\(lr): \(s)")
    }
    let s = problem.trainAndEvaluate(optimizer: .adam(learningRate: 0.001), epochs: epochs, standardize: true)
    print("D=\(w) epochs=\(epochs) adam lr=0.001 standardised: \(s)")
  }
}
