// Helpers for finite-difference gradient checks and the Keras heads fixture.
import Foundation

/// Central differences of f at x, one coordinate at a time, in float32 with step h.
func centralDifferences(_ x: [Float], h: Float, _ f: ([Float]) -> Float) -> [Float] {
  var probe = x
  var out = [Float](repeating: 0, count: x.count)
  for i in 0..<x.count {
    probe[i] = x[i] + h
    let up = Double(f(probe))
    probe[i] = x[i] - h
    let down = Double(f(probe))
    probe[i] = x[i]
    out[i] = Float((up - down) / (2 * Double(h)))
  }
  return out
}

/// max |a - b| / max(|b|, floor): relative error that does not blow up near zero gradients.
func maxRelativeError(_ a: [Float], _ b: [Float], floor: Float = 1e-2) -> Float {
  precondition(a.count == b.count)
  var m: Float = 0
  for i in 0..<a.count { m = max(m, abs(a[i] - b[i]) / max(abs(b[i]), floor)) }
  return m
}

/// Tests/Fixtures/heads_fixtures.json, written by make_optimizer_fixtures.py with Keras 3.15.1.
struct HeadsFixture: Decodable {
  struct Optimizer: Decodable {
    var name: String
    var steps: [[Double]]
  }
  struct Loss: Decodable {
    var name: String
    var logits: [[Double]]
    var labels: [[Double]]
    var mask: [Double]
    var lossWeight: Double
    var value: Double
    var gradient: [[Double]]
  }
  var keras: String
  var initial: [Double]
  var gradients: [[Double]]
  var optimizers: [Optimizer]
  var losses: [Loss]

  static func load() throws -> HeadsFixture {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures/heads_fixtures.json")
    return try JSONDecoder().decode(HeadsFixture.self, from: Data(contentsOf: url))
  }
}

extension Array where Element == [Double] {
  /// Row-major float32 copy of a nested JSON matrix.
  var flatFloats: [Float] { flatMap { $0.map(Float.init) } }
}

/// One Keras train_on_batch step of a tiny two-head model (see the fixture script).
struct TwoHeadStep: Decodable {
  var weightsBefore: [[Double]]
  var weightsAfter: [[Double]]
  var x: [[Double]]
  var yClass: [[Double]]
  var yRegression: [[Double]]
  var maskClass: [Double]
  var maskRegression: [Double]
  var lossWeights: [Double]
  var learningRate: Double
  var loss: Double
}

extension HeadsFixture {
  static func loadTwoHeadStep() throws -> TwoHeadStep {
    struct File: Decodable { var twoHeadStep: TwoHeadStep }
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures/heads_fixtures.json")
    return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).twoHeadStep
  }
}
