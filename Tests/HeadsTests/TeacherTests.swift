// Known answers from linear teachers (TeacherProblem): linear heads trained with shuffled Adam
// must come close to what the teachers themselves score, and `TrainingDefaults` must beat Keras'
// defaults on the same problem in the same number of epochs.

import Heads
import XCTest

final class TeacherTests: XCTestCase {
  /// N 2000, D 64, isotropic L2-normalised features, 80/20 split. The teachers score 100% class
  /// accuracy and MAE 0 on their noiseless labels, but 1600 rows pin a 64-dim linear boundary only
  /// up to a thin band of validation rows near it, so class accuracy is asserted >= 0.9; the tanh
  /// teacher is exactly representable and its targets noiseless, so MAE <= 0.05 (on 1..10); the
  /// noisy flag cannot beat the teacher's own accuracy, asserted within 0.03 of it.
  func testLinearHeadsReachTheTeachers() {
    let problem = TeacherProblem(rows: 2000, width: 64, seed: 1)
    let scores = problem.trainAndEvaluate(optimizer: .adam(learningRate: 0.01), epochs: 60)
    let ceiling = problem.teacherFlagAccuracy(rows: 1600..<2000)
    print("teacher D=64, Adam lr 0.01, 60 epochs: \(scores); teacher flag acc \(fmt(ceiling))")
    XCTAssertGreaterThanOrEqual(scores.classAccuracy, 0.9)
    XCTAssertLessThanOrEqual(scores.scoreMAE, 0.05)
    XCTAssertGreaterThanOrEqual(scores.flagAccuracy, ceiling - 0.03)
  }

  /// Features like real pooled ones (D 512 on a 32-dim subspace plus a common direction): after
  /// 10 epochs, `TrainingDefaults` must be better than Keras' Adam(0.001) on every head.
  func testDefaultsBeatKerasDefaultsInTenEpochs() {
    let problem = TeacherProblem(rows: 2000, width: 512, seed: 1, latent: 32, offset: 1)
    let keras = problem.trainAndEvaluate(optimizer: .adam(), epochs: 10, batchSize: 32)
    let ours = problem.trainAndEvaluate(
      optimizer: TrainingDefaults.optimizer, epochs: 10, batchSize: TrainingDefaults.batchSize)
    let ceiling = problem.teacherFlagAccuracy(rows: 1600..<2000)
    print(
      "D=512 latent 32, 10 epochs: Keras defaults \(keras); ours \(ours); teacher flag acc \(fmt(ceiling))")
    XCTAssertGreaterThan(ours.classAccuracy, keras.classAccuracy + 0.03)
    XCTAssertLessThan(ours.scoreMAE, keras.scoreMAE / 2)
    XCTAssertGreaterThanOrEqual(ours.flagAccuracy, keras.flagAccuracy)
    XCTAssertGreaterThan(ours.classAccuracy, 0.9)
    XCTAssertLessThan(ours.scoreMAE, 0.1)
  }
}
