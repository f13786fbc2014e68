// Seeded initialisation and shuffling: known values of the generator, Keras' glorot_uniform
// bounds, permutations, gathering, and bit-identical training for one seed.

import Heads
import Support
import XCTest

final class SeededTrainingTests: XCTestCase {
  private let specs = [
    HeadSpec(name: "score", kind: .tanh, outputs: 1),
    HeadSpec(name: "harmony", kind: .softmax, outputs: 6, hidden: [16]),
    HeadSpec(name: "tags", kind: .sigmoid, outputs: 3),
  ]

  func testSplitMix64KnownValues() {
    // SplitMix64 from seed 1234567, from an independent Python transcription of splitmix64.c.
    var g = SplitMix64(seed: 1_234_567)
    XCTAssertEqual(
      (0..<5).map { _ in g.next() },
      [
        6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
        4_593_380_528_125_082_431, 16_408_922_859_458_223_821,
      ])
  }

  func testGlorotUniformBoundsAndZeroBiases() {
    let width = 64
    let model = MultiHeadModel(specs: specs, inputWidth: width, seed: 42)
    // Layers in parameter order: (in, out) of each Dense.
    let layers = [(64, 1), (64, 16), (16, 6), (64, 3)]
    var offset = 0
    for (fanIn, fanOut) in layers {
      let limit = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
      let kernel = model.parameters[offset..<(offset + fanIn * fanOut)]
      let bias = model.parameters[(offset + fanIn * fanOut)..<(offset + fanIn * fanOut + fanOut)]
      XCTAssertLessThanOrEqual(kernel.map(abs).max()!, limit)
      // Uniform on [-limit, limit]: the largest magnitude comes close to the limit, the mean is ~0
      // and the variance ~limit^2 / 3.
      XCTAssertGreaterThan(kernel.map(abs).max()!, limit * 0.8)
      let mean = kernel.reduce(0, +) / Float(kernel.count)
      let variance = kernel.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(kernel.count)
      XCTAssertLessThan(abs(mean), limit * 0.2)
      XCTAssertEqual(variance / (limit * limit / 3), 1, accuracy: 0.35)
      XCTAssertTrue(bias.allSatisfy { $0 == 0 })
      offset += fanIn * fanOut + fanOut
    }
    XCTAssertEqual(offset, model.parameters.count)
    XCTAssertEqual(model.parameters, MultiHeadModel(specs: specs, inputWidth: width, seed: 42).parameters)
    XCTAssertNotEqual(model.parameters, MultiHeadModel(specs: specs, inputWidth: width, seed: 43).parameters)
    // The first draw pins the formula: Float((2u - 1) * limit), u = top 53 bits of next() / 2^53.
    var g = SplitMix64(seed: 42)
    let u = Double(g.next() >> 11) / 9_007_199_254_740_992
    XCTAssertEqual(model.parameters[0], Float((2 * u - 1) * (6.0 / 65).squareRoot()))
  }

  func testEpochBatchesArePermutationsCutInOrder() {
    let plain = epochBatches(rows: 10, batchSize: 4, epoch: 0, seed: 1, shuffle: false)
    XCTAssertEqual(plain, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    let first = epochBatches(rows: 100, batchSize: 32, epoch: 0, seed: 1, shuffle: true)
    XCTAssertEqual(first.map(\.count), [32, 32, 32, 4])
    XCTAssertEqual(first.flatMap { $0 }.sorted(), Array(0..<100))
    XCTAssertNotEqual(first.flatMap { $0 }, Array(0..<100))
    XCTAssertEqual(first, epochBatches(rows: 100, batchSize: 32, epoch: 0, seed: 1, shuffle: true))
    XCTAssertNotEqual(first, epochBatches(rows: 100, batchSize: 32, epoch: 1, seed: 1, shuffle: true))
    XCTAssertNotEqual(first, epochBatches(rows: 100, batchSize: 32, epoch: 0, seed: 2, shuffle: true))
    // Fisher–Yates with an unbiased index: every row lands in every position about equally often.
    var counts = [Int](repeating: 0, count: 5)
    for epoch in 0..<5000 {
      let order = epochBatches(rows: 5, batchSize: 5, epoch: epoch, seed: 9, shuffle: true)[0]
      counts[order.firstIndex(of: 0)!] += 1
    }
    print("row 0's position over 5000 shuffles of 5:", counts)
    XCTAssertTrue(counts.allSatisfy { abs($0 - 1000) < 120 })
  }

  func testGatherRows() {
    let features: [Float] = (0..<12).map(Float.init)  // (4, 3)
    let targets = [
      HeadTargets(values: [10, 11, 12, 13], rowWeights: [1, 0, 1, 1]),
      HeadTargets(values: (0..<8).map(Float.init), rowWeights: [1, 1, 0, 1]),
    ]
    let gathered = gatherRows([2, 0], features: features, width: 3, targets: targets)
    XCTAssertEqual(gathered.features, [6, 7, 8, 0, 1, 2])
    XCTAssertEqual(gathered.targets[0].values, [12, 10])
    XCTAssertEqual(gathered.targets[0].rowWeights, [1, 1])
    XCTAssertEqual(gathered.targets[1].values, [4, 5, 0, 1])
    XCTAssertEqual(gathered.targets[1].rowWeights, [0, 1])
  }

  /// In-order index batches must train exactly as the range-based trainEpoch (Keras-tested) does.
  func testIndexBatchesInOrderMatchRangeBatchesBitForBit() {
    let problem = TeacherProblem(rows: 100, width: 16, seed: 3)
    let targets = problem.targets(0..<100)
    var a = MultiHeadModel(specs: TeacherProblem.specs, inputWidth: 16, seed: 5)
    var b = a
    var optA = Optimizer(.adam(), parameterCount: a.parameters.count)
    var optB = optA
    let indices = epochBatches(rows: 100, batchSize: 32, epoch: 0, seed: 0, shuffle: false)
    let lossA = trainEpoch(
      &a, optimizer: &optA, features: problem.features, targets: targets, batches: indices)
    let lossB = trainEpoch(
      &b, optimizer: &optB, features: problem.features, targets: targets,
      batches: indices.map { $0[0]..<($0.last! + 1) })
    XCTAssertEqual(a.parameters, b.parameters)
    XCTAssertEqual(lossA, lossB)
  }

  private func threeEpochs(seed: UInt64, shuffleSeed: UInt64? = nil) -> [Float] {
    let problem = TeacherProblem(rows: 200, width: 32, seed: 11)
    let targets = problem.targets(0..<200)
    // The teacher's heads, the softmax one with a hidden ReLU layer.
    let specs = [
      HeadSpec(name: "class", kind: .softmax, outputs: TeacherProblem.classes, hidden: [16]),
      HeadSpec(name: "score", kind: .tanh, outputs: 1),
      HeadSpec(name: "flag", kind: .sigmoid, outputs: 1),
    ]
    var model = MultiHeadModel(specs: specs, inputWidth: 32, seed: seed)
    var optimizer = Optimizer(.adam(learningRate: 0.01), parameterCount: model.parameters.count)
    for epoch in 0..<3 {
      let batches = epochBatches(
        rows: 200, batchSize: 32, epoch: epoch, seed: shuffleSeed ?? seed, shuffle: true)
      _ = trainEpoch(
        &model, optimizer: &optimizer, features: problem.features, targets: targets, batches: batches)
    }
    return model.parameters
  }

  func testSameSeedSameParametersAfterThreeEpochs() {
    let first = threeEpochs(seed: 2024)
    let again = threeEpochs(seed: 2024)
    XCTAssertEqual(first.map(\.bitPattern), again.map(\.bitPattern))
    let other = threeEpochs(seed: 2025)
    let difference = zip(first, other).map { abs($0 - $1) }.max()!
    print("max parameter difference between seeds 2024 and 2025 after 3 epochs:", difference)
    XCTAssertGreaterThan(difference, 1e-3)
    // The same initial weights with another batch order must also end elsewhere.
    let reshuffled = threeEpochs(seed: 2024, shuffleSeed: 2025)
    let shuffleDifference = zip(first, reshuffled).map { abs($0 - $1) }.max()!
    print("max parameter difference between shuffle seeds 2024 and 2025 after 3 epochs:", shuffleDifference)
    XCTAssertGreaterThan(shuffleDifference, 1e-3)
  }
}
