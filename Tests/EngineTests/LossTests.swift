import XCTest

@testable import Engine

/// Losses against Keras 3.15.1 (value and gradient w.r.t. the logits, masked rows, a loss
/// weight, saturated logits) and against finite differences.
final class LossTests: XCTestCase {
  /// One loss as the heads use it: logits (B, K) in, value and dLogits out. MSE runs through
  /// tanh, as the regression heads do, to be comparable with Keras' gradient w.r.t. the logits.
  private func evaluate(
    _ name: String, logits: [Float], labels: [Float], mask: [Float], weight: Float, batch: Int, width: Int
  ) -> (value: Float, gradient: [Float]) {
    var grad = [Float](repeating: 0, count: logits.count)
    var out = [Float](repeating: 0, count: logits.count)
    var value: Float = 0
    logits.withUnsafeBufferPointer { z in
      labels.withUnsafeBufferPointer { t in
        mask.withUnsafeBufferPointer { w in
          grad.withUnsafeMutableBufferPointer { dz in
            out.withUnsafeMutableBufferPointer { y in
              switch name {
              case "softmax_cce":
                softmaxForward(y, z, rows: batch, width: width)
                value = categoricalCrossEntropyForward(
                  logits: z, labels: t, rowWeights: w, lossWeight: weight, batch: batch, classes: width)
                categoricalCrossEntropyBackward(
                  dz, probabilities: UnsafeBufferPointer(y), labels: t, rowWeights: w, lossWeight: weight,
                  batch: batch, classes: width)
              case "sigmoid_bce":
                value = binaryCrossEntropyForward(
                  logits: z, labels: t, rowWeights: w, lossWeight: weight, batch: batch, labelCount: width)
                binaryCrossEntropyBackward(
                  dz, logits: z, labels: t, rowWeights: w, lossWeight: weight, batch: batch, labelCount: width
                )
              default:
                tanhForward(y, z)
                let yc = UnsafeBufferPointer(y)
                value = meanSquaredErrorForward(
                  predictions: yc, labels: t, rowWeights: w, lossWeight: weight, batch: batch, width: width)
                var dy = [Float](repeating: 0, count: z.count)
                dy.withUnsafeMutableBufferPointer { dy in
                  meanSquaredErrorBackward(
                    dy, predictions: yc, labels: t, rowWeights: w, lossWeight: weight, batch: batch,
                    width: width)
                  tanhBackward(dz, UnsafeBufferPointer(dy), y: yc)
                }
              }
            }
          }
        }
      }
    }
    return (value, grad)
  }

  func testLossesMatchKerasAndFiniteDifferences() throws {
    let fixture = try HeadsFixture.load()
    XCTAssertEqual(fixture.losses.count, 3)
    for c in fixture.losses {
      let batch = c.logits.count
      let width = c.logits[0].count
      let labels = c.labels.flatFloats
      let mask = c.mask.map(Float.init)
      let weight = Float(c.lossWeight)
      let (value, grad) = evaluate(
        c.name, logits: c.logits.flatFloats, labels: labels, mask: mask, weight: weight, batch: batch,
        width: width)
      let valueDiff = abs(Double(value) - c.value) / max(1, abs(c.value))
      let gradDiff = maxAbsDiff(grad, c.gradient.flatFloats)
      print(
        "\(c.name) vs Keras \(fixture.keras): value \(value) (rel diff \(valueDiff)),"
          + " max |dz diff| \(gradDiff)"
      )
      XCTAssertLessThan(valueDiff, 1e-6, c.name)
      XCTAssertLessThan(gradDiff, 1e-6, c.name)
      // Masked rows get no gradient at all.
      for r in 0..<batch where mask[r] == 0 {
        XCTAssertEqual(grad[(r * width)..<((r + 1) * width)].map(abs).max(), 0, "\(c.name) row \(r)")
      }
      // Finite differences on moderate logits (the fixture's saturated ones would need tiny steps).
      var rng = TestRandom(seed: 11)
      let z = rng.array(batch * width).map { 2 * $0 }
      let analytic = evaluate(
        c.name, logits: z, labels: labels, mask: mask, weight: weight, batch: batch, width: width)
      let numeric = centralDifferences(z, h: 1e-2) {
        self.evaluate(
          c.name, logits: $0, labels: labels, mask: mask, weight: weight, batch: batch, width: width
        ).value
      }
      let rel = maxRelativeError(analytic.gradient, numeric)
      print("\(c.name): finite differences, max relative error \(rel)")
      XCTAssertLessThan(rel, 2e-3, c.name)
    }
  }

  /// Keras' denominator is the batch size even when rows are masked: the mean of (1 - 0)^2
  /// over 4 rows with weights (1, 1, 0, 0) is 0.5 (Keras 3.15.1 gives 0.5; see fixture script).
  func testMaskedRowsStayInTheDenominator() {
    let p = [Float](repeating: 0, count: 4)
    let t = [Float](repeating: 1, count: 4)
    let w: [Float] = [1, 1, 0, 0]
    let value = p.withUnsafeBufferPointer { p in
      t.withUnsafeBufferPointer { t in
        w.withUnsafeBufferPointer { w in
          meanSquaredErrorForward(predictions: p, labels: t, rowWeights: w, lossWeight: 1, batch: 4, width: 1)
        }
      }
    }
    XCTAssertEqual(value, 0.5)
  }
}
