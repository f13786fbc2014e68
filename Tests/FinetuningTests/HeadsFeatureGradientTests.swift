// MultiHeadModel's new dFeatures output (what lets fine-tuning train below the heads) against
// central differences, for every head kind, a hidden layer, loss weights and a missing label.
import Engine
import Heads
import XCTest

final class HeadsFeatureGradientTests: XCTestCase {
  func testFeatureGradientMatchesFiniteDifferences() {
    let (rows, width) = (3, 6)
    var embedding = HeadSpec.embedding(name: "hue", dimensions: 4, wheelClasses: ["a", "b", "c", "d", "e"])
    embedding.lossWeight = 0.7
    let specs = [
      HeadSpec(name: "score", kind: .tanh, outputs: 2, lossWeight: 0.5),
      HeadSpec(name: "kind", kind: .softmax, outputs: 3, hidden: [5], lossWeight: 1),
      HeadSpec(name: "tags", kind: .sigmoid, outputs: 2, lossWeight: 2),
      embedding,
    ]
    let count = MultiHeadModel.parameterCount(specs: specs, inputWidth: width)
    let model = MultiHeadModel(
      specs: specs, inputWidth: width, parameters: StageGradientTests.values(count, seed: 21).map { $0 * 0.8 })
    let features = StageGradientTests.values(rows * width, seed: 22)
    let targets = [
      HeadTargets.regression([3, 7, .nan, 5, 9, 1], low: 0, high: 10),
      HeadTargets.classes([2, -1, 0], count: 3),
      HeadTargets.multiLabel([1, 0, 0, 1, 1, 1], labelCount: 2),
      HeadTargets.wheel([4, 0, 2]),
    ]
    func loss(_ x: [Float]) -> Double {
      var g = [Float](repeating: 0, count: count)
      return x.withUnsafeBufferPointer { x in
        g.withUnsafeMutableBufferPointer {
          model.lossAndGradient(features: x, targets: targets, rows: 0..<rows, gradients: $0).total
        }
      }
    }
    var gradients = [Float](repeating: 0, count: count)
    var dFeatures = [Float](repeating: 0, count: rows * width)
    let withFeatures = features.withUnsafeBufferPointer { x in
      gradients.withUnsafeMutableBufferPointer { g in
        dFeatures.withUnsafeMutableBufferPointer { d in
          model.lossAndGradient(features: x, targets: targets, rows: 0..<rows, gradients: g, dFeatures: d)
        }
      }
    }
    // The parameter gradients and losses do not change when dFeatures is asked for.
    var plain = [Float](repeating: 0, count: count)
    let without = features.withUnsafeBufferPointer { x in
      plain.withUnsafeMutableBufferPointer {
        model.lossAndGradient(features: x, targets: targets, rows: 0..<rows, gradients: $0)
      }
    }
    XCTAssertEqual(withFeatures, without)
    XCTAssertEqual(gradients, plain)
    var worst: Float = 0
    var probe = features
    for i in features.indices {
      let h: Float = 1e-2
      probe[i] = features[i] + h
      let up = loss(probe)
      probe[i] = features[i] - h
      let down = loss(probe)
      probe[i] = features[i]
      let numeric = Float((up - down) / (2 * Double(h)))
      worst = max(worst, abs(numeric - dFeatures[i]) / max(abs(dFeatures[i]), 1e-2))
    }
    print("heads dFeatures vs central differences: worst relative error \(worst)")
    XCTAssertLessThan(worst, 1e-2)
  }
}
