// Reading Tests/Fixtures/finetune (written by make_keras_finetune_fixtures.py with Keras 3.15.1).
import Foundation
import Heads

struct FinetuneManifest: Decodable {
  struct Losses: Decodable {
    var total: Double
    var kind: Double
    var score: Double
  }
  struct Run: Decodable {
    var name: String
    var optimizer: [String: OptimizerValue]
    var training: Bool
    var steps: Int
    /// `input.f32` (images, through the frozen prefix) or a stored block input file.
    var input: String
    var losses: [Losses]
    var abs_delta_sums: [Double]
  }
  struct StoredArray: Decodable {
    var layer: String
    var role: String
    var shape: [Int]
    var indices: [Int]
  }
  enum OptimizerValue: Decodable {
    case number(Double)
    case text(String)
    init(from decoder: Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let number = try? container.decode(Double.self) {
        self = .number(number)
      } else {
        self = .text(try container.decode(String.self))
      }
    }
    var number: Double {
      if case .number(let value) = self { return value }
      return .nan
    }
    var text: String {
      if case .text(let value) = self { return value }
      return ""
    }
  }
  var batch: Int
  var size: Int
  var kind_labels: [Int32]
  var score_targets: [[Double]]
  var runs: [Run]
  var arrays: [StoredArray]

  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/finetune")

  static func load() throws -> FinetuneManifest {
    try JSONDecoder().decode(
      FinetuneManifest.self, from: Data(contentsOf: directory.appendingPathComponent("manifest.json")))
  }

  /// A raw little-endian float32 file of the fixture.
  static func floats(_ file: String) throws -> [Float] {
    let data = try Data(contentsOf: directory.appendingPathComponent(file))
    return data.withUnsafeBytes { raw in
      (0..<(data.count / 4)).map {
        Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
      }
    }
  }

  /// The fixture's heads: `kind` softmax over 3 classes (loss weight 1), `score` tanh with 2
  /// outputs (loss weight 0.5), on 2048 features.
  static let specs = [
    HeadSpec(name: "kind", kind: .softmax, outputs: 3, lossWeight: 1),
    HeadSpec(name: "score", kind: .tanh, outputs: 2, lossWeight: 0.5),
  ]

  var targets: [HeadTargets] {
    [
      HeadTargets.classes(kind_labels, count: 3),
      HeadTargets(
        values: score_targets.flatMap { $0.map(Float.init) },
        rowWeights: [Float](repeating: 1, count: score_targets.count)),
    ]
  }
}

/// max |a - b| / max |b|: the error relative to the reference's scale.
func relativeToScale(_ a: [Float], _ b: [Float]) -> Double {
  precondition(a.count == b.count)
  var error = 0.0
  var scale = 0.0
  for (x, y) in zip(a, b) {
    error = max(error, abs(Double(x) - Double(y)))
    scale = max(scale, abs(Double(y)))
  }
  return scale == 0 ? error : error / scale
}

/// sum |a - b| in float64, over raw pointers (15M elements per call: fast enough in debug).
func absoluteDifferenceSum(_ a: [Float], _ b: [Float]) -> Double {
  precondition(a.count == b.count)
  return a.withUnsafeBufferPointer { a in
    b.withUnsafeBufferPointer { b in
      var sum = 0.0
      for i in 0..<a.count { sum += abs(Double(a[i]) - Double(b[i])) }
      return sum
    }
  }
}
