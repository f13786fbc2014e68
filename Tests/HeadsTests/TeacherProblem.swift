// A synthetic problem with known answers: L2-normalised Gaussian features (N, D) row-major and
// labels from linear teachers, so a linear head can in principle reach the teacher's own scores.
//   class:  argmax over 4 classes of W·x (noiseless: the teacher scores 100%)
//   score:  1 + 9 (tanh(sqrt(D) w·x) + 1) / 2 in [1, 10] (noiseless: the teacher's MAE is 0)
//   flag:   Bernoulli(sigmoid(4 sqrt(D) v·x)) (noisy: the teacher's accuracy is the ceiling)
// The sqrt(D) factors keep the teachers' logits O(1) at any width, as with real features whose
// class signal is spread thinly over all D components of a unit vector.

import Heads
import Support

struct TeacherProblem {
  static let classes = 4
  let width: Int
  let features: [Float]
  let classLabels: [Int32]
  let scores: [Float]
  let flags: [Float]
  /// The logistic teacher's own predictions of `flags` (probability > 0.5).
  let teacherFlags: [Float]

  static let specs = [
    HeadSpec(name: "class", kind: .softmax, outputs: classes),
    HeadSpec(name: "score", kind: .tanh, outputs: 1),
    HeadSpec(name: "flag", kind: .sigmoid, outputs: 1),
  ]

  /// Isotropic features when `latent` is nil. Otherwise, closer to real pooled CNN features:
  /// x = normalise(offset sqrt(latent) m + B z) with z ~ N(0, I_latent), B (D, latent) random
  /// unit columns and m a common unit direction (real features of unrelated images have cosines
  /// ~0.5), and the teachers' directions lie in the span of B.
  init(rows: Int, width: Int, seed: UInt64, latent: Int? = nil, offset: Double = 0) {
    self.width = width
    var g = SplitMix64(seed: seed)
    func normalised(_ v: [Double]) -> [Double] {
      let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
      return v.map { $0 / norm }
    }
    let basis = (0..<(latent ?? 0)).map { _ in normalised((0..<width).map { _ in g.nextGaussian() }) }
    let common = normalised((0..<width).map { _ in g.nextGaussian() })
    func unitVector() -> [Double] {
      guard let latent else { return normalised((0..<width).map { _ in g.nextGaussian() }) }
      var v = common.map { $0 * offset * Double(latent).squareRoot() }
      for b in basis {
        let z = g.nextGaussian()
        for j in 0..<width { v[j] += z * b[j] }
      }
      return normalised(v)
    }
    func teacherVector() -> [Double] {
      guard latent != nil else { return unitVector() }
      var v = [Double](repeating: 0, count: width)
      for b in basis {
        let a = g.nextGaussian()
        for j in 0..<width { v[j] += a * b[j] }
      }
      return normalised(v)
    }
    let classWeights = (0..<Self.classes).map { _ in teacherVector() }
    let scoreWeights = teacherVector()
    let flagWeights = teacherVector()
    var features: [Float] = []
    var classLabels: [Int32] = []
    var scores: [Float] = []
    var flags: [Float] = []
    var teacherFlags: [Float] = []
    let scale = latent.map { (Double($0) * (1 + offset * offset)).squareRoot() } ?? Double(width).squareRoot()
    for _ in 0..<rows {
      let x = unitVector()
      features += x.map { Float($0) }
      func dot(_ w: [Double]) -> Double { zip(w, x).reduce(0) { $0 + $1.0 * $1.1 } }
      let logits = classWeights.map(dot)
      classLabels.append(Int32(logits.indices.max { logits[$0] < logits[$1] }!))
      let t = tanhD(scale * dot(scoreWeights))
      scores.append(Float(1 + 9 * (t + 1) / 2))
      let p = 1 / (1 + expD(-4 * scale * dot(flagWeights)))
      flags.append(g.nextUnit() < p ? 1 : 0)
      teacherFlags.append(p > 0.5 ? 1 : 0)
    }
    self.features = features
    self.classLabels = classLabels
    self.scores = scores
    self.flags = flags
    self.teacherFlags = teacherFlags
  }

  func targets(_ rows: Range<Int>) -> [HeadTargets] {
    [
      HeadTargets.classes(Array(classLabels[rows]), count: Self.classes),
      HeadTargets.regression(Array(scores[rows]), low: 1, high: 10),
      HeadTargets.multiLabel(Array(flags[rows]), labelCount: 1),
    ]
  }

  func features(_ rows: Range<Int>) -> [Float] {
    Array(features[(rows.lowerBound * width)..<(rows.upperBound * width)])
  }

  struct Scores: CustomStringConvertible {
    var classAccuracy: Double
    var scoreMAE: Double
    var flagAccuracy: Double
    var description: String {
      "class acc \(fmt(classAccuracy)), score MAE \(fmt(scoreMAE)), flag acc \(fmt(flagAccuracy))"
    }
  }

  /// The model's scores on `rows`, whose features (rows.count, D) are given (maybe standardised).
  func evaluate(_ model: MultiHeadModel, features x: [Float], rows: Range<Int>) -> Scores {
    let outputs = model.predict(features: x)
    var correct = 0
    var absolute = 0.0
    var flagCorrect = 0
    for (i, row) in rows.enumerated() {
      let p = outputs[0][(i * Self.classes)..<((i + 1) * Self.classes)]
      if p.indices.max(by: { p[$0] < p[$1] })! - i * Self.classes == Int(classLabels[row]) { correct += 1 }
      absolute += abs(1 + 9 * (Double(outputs[1][i]) + 1) / 2 - Double(scores[row]))
      if (outputs[2][i] > 0.5 ? 1 : 0) == flags[row] { flagCorrect += 1 }
    }
    let n = Double(rows.count)
    return Scores(
      classAccuracy: Double(correct) / n, scoreMAE: absolute / n, flagAccuracy: Double(flagCorrect) / n)
  }

  /// The logistic teacher's accuracy on the noisy flags of `rows`: the flag head's ceiling.
  func teacherFlagAccuracy(rows: Range<Int>) -> Double {
    Double(rows.filter { teacherFlags[$0] == flags[$0] }.count) / Double(rows.count)
  }

  /// Trains linear heads (glorot init from `seed`, shuffled batches) on the first 80% of rows and
  /// scores them on the last 20%. `standardize` z-scores every feature with training-set statistics.
  func trainAndEvaluate(
    optimizer kind: OptimizerKind, epochs: Int, batchSize: Int = 32, seed: UInt64 = 7,
    standardize: Bool = false
  ) -> Scores {
    let n = features.count / width
    let train = 0..<(n * 4 / 5)
    let validation = train.upperBound..<n
    var model = MultiHeadModel(specs: Self.specs, inputWidth: width, seed: seed)
    var optimizer = Optimizer(kind, parameterCount: model.parameters.count)
    var trainX = features(train)
    var validationX = features(validation)
    if standardize {
      for j in 0..<width {
        var mean = 0.0
        var square = 0.0
        for r in train {
          mean += Double(trainX[r * width + j])
          square += Double(trainX[r * width + j]) * Double(trainX[r * width + j])
        }
        mean /= Double(train.count)
        let std = max(1e-12, (square / Double(train.count) - mean * mean).squareRoot())
        for r in train { trainX[r * width + j] = Float((Double(trainX[r * width + j]) - mean) / std) }
        for r in 0..<validation.count {
          validationX[r * width + j] = Float((Double(validationX[r * width + j]) - mean) / std)
        }
      }
    }
    let trainTargets = targets(train)
    for epoch in 0..<epochs {
      let batches = epochBatches(
        rows: train.count, batchSize: batchSize, epoch: epoch, seed: seed, shuffle: true)
      _ = trainEpoch(&model, optimizer: &optimizer, features: trainX, targets: trainTargets, batches: batches)
    }
    return evaluate(model, features: validationX, rows: validation)
  }
}

/// Three decimals, for test logs.
func fmt(_ x: Double) -> String { "\((x * 1000).rounded() / 1000)" }

#if canImport(Glibc)
  import Glibc
  func tanhD(_ x: Double) -> Double { Glibc.tanh(x) }
  func expD(_ x: Double) -> Double { Glibc.exp(x) }
#else
  import Foundation
  func tanhD(_ x: Double) -> Double { Foundation.tanh(x) }
  func expD(_ x: Double) -> Double { Foundation.exp(x) }
#endif
