// A head on some of the feature columns (HeadSpec.inputColumns) against a naive reference: a
// model on just those columns, gathered, with the same kernel rows.

import Support
import XCTest

@testable import Heads

final class InputColumnsTests: XCTestCase {
  func testHeadOnSomeColumnsIsADenseOnThoseColumnsAlone() throws {
    let d = 9
    var spec = HeadSpec(name: "h", kind: .softmax, outputs: 3, hidden: [5])
    spec.inputColumns = [6..<9, 1..<3]
    let model = MultiHeadModel(specs: [spec], inputWidth: d, seed: 4)
    // Initialised as a Dense on those 5 columns: the other rows are zero.
    let kernel = model.slots[0][0]
    for row in [0, 3, 4, 5] {
      let start = kernel.kernel.lowerBound + row * 5
      XCTAssertEqual(Array(model.parameters[start..<(start + 5)]), [Float](repeating: 0, count: 5), "row \(row)")
    }
    // The reference: the gathered kernel rows (6, 7, 8, 1, 2) on the gathered columns.
    let order = [6, 7, 8, 1, 2]
    var referenceParameters: [Float] = []
    for row in order {
      referenceParameters +=
        model.parameters[(kernel.kernel.lowerBound + row * 5)..<(kernel.kernel.lowerBound + row * 5 + 5)]
    }
    referenceParameters += model.parameters[kernel.bias.lowerBound...]
    let reference = MultiHeadModel(
      specs: [HeadSpec(name: "h", kind: .softmax, outputs: 3, hidden: [5])], inputWidth: 5,
      parameters: referenceParameters)
    var generator = SplitMix64(seed: 11)
    let rows = 7
    let features = (0..<(rows * d)).map { _ in Float(generator.nextGaussian()) }
    let gathered = (0..<rows).flatMap { r in order.map { features[r * d + $0] } }
    let ours = model.predict(features: features)
    let expected = reference.predict(features: gathered)
    XCTAssertEqual(ours.count, expected.count)
    for (a, b) in zip(ours.joined(), expected.joined()) { XCTAssertEqual(a, b, accuracy: 1e-6) }

    // Training: the gradient of the other rows is zero, so they stay zero.
    var targets = [Float](repeating: 0, count: rows * 3)
    for r in 0..<rows { targets[r * 3 + r % 3] = 1 }
    var gradients = [Float](repeating: 0, count: model.parameters.count)
    _ = features.withUnsafeBufferPointer { x in
      gradients.withUnsafeMutableBufferPointer { g in
        model.lossAndGradient(
          features: x, targets: [HeadTargets(values: targets, rowWeights: [Float](repeating: 1, count: rows))],
          rows: 0..<rows, gradients: g)
      }
    }
    for row in [0, 3, 4, 5] {
      let start = kernel.kernel.lowerBound + row * 5
      XCTAssertEqual(Array(gradients[start..<(start + 5)]), [Float](repeating: 0, count: 5), "row \(row)")
    }
    XCTAssertNotEqual(
      Array(gradients[(kernel.kernel.lowerBound + 6 * 5)..<(kernel.kernel.lowerBound + 7 * 5)]), [0, 0, 0, 0, 0])
  }
}
