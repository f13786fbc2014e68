import XCTest

@testable import Engine

/// The colour-wheel embedding loss: known values, soft targets, and finite-difference gradients
/// with respect to both the predicted vectors and the class vectors.
final class EmbeddingLossTests: XCTestCase {
  private let batch = 4
  private let classes = 6
  private let dimensions = 3
  private let labels: [Int32] = [0, 3, -1, 5]
  private let weights: [Float] = [1, 1, 1, 0.5]

  private func loss(_ p: [Float], _ v: [Float], lossWeight: Float = 1.5, sigma: Double = 1) -> Float {
    p.withUnsafeBufferPointer { p in
      v.withUnsafeBufferPointer { v in
        labels.withUnsafeBufferPointer { y in
          weights.withUnsafeBufferPointer { w in
            embeddingLossForward(
              predictions: p, classVectors: v, labels: y, rowWeights: w, lossWeight: lossWeight, sigma: sigma,
              batch: batch, classes: classes, dimensions: dimensions)
          }
        }
      }
    }
  }

  /// Gradients accumulated onto buffers pre-filled with `start`.
  private func gradients(_ p: [Float], _ v: [Float], start: Float) -> (dp: [Float], dv: [Float]) {
    var dp = [Float](repeating: start, count: p.count)
    var dv = [Float](repeating: start, count: v.count)
    p.withUnsafeBufferPointer { p in
      v.withUnsafeBufferPointer { v in
        labels.withUnsafeBufferPointer { y in
          weights.withUnsafeBufferPointer { w in
            dp.withUnsafeMutableBufferPointer { dp in
              dv.withUnsafeMutableBufferPointer { dv in
                embeddingLossBackward(
                  dPredictions: dp, dClassVectors: dv, predictions: p, classVectors: v, labels: y, rowWeights: w,
                  lossWeight: 1.5, sigma: 1, batch: batch, classes: classes, dimensions: dimensions)
              }
            }
          }
        }
      }
    }
    return (dp, dv)
  }

  func testWheelDistanceAndSoftTargets() {
    XCTAssertEqual(wheelDistance(0, 11, classes: 12), 1)
    XCTAssertEqual(wheelDistance(2, 8, classes: 12), 6)
    XCTAssertEqual(wheelDistance(9, 1, classes: 12), 4)
    let t = wheelSoftTargets(label: 0, classes: 12, sigma: 1)
    XCTAssertEqual(t.reduce(0, +), 1, accuracy: 1e-12)
    XCTAssertEqual(t[1], t[11], accuracy: 1e-15)
    XCTAssertEqual(t[1] / t[0], exp(-0.5), accuracy: 1e-12)
    XCTAssertEqual(t[2] / t[0], exp(-2), accuracy: 1e-12)
    XCTAssertEqual(t.indices.max { t[$0] < t[$1] }, 0)
  }

  /// All class vectors equal: q is uniform, so each labelled row costs log C whatever its
  /// targets; the batch mean divides by B including the missing row.
  func testKnownValueWithCoincidentClassVectors() {
    let p: [Float] = [0.1, 0.2, 0.3, -1, 0, 2, 5, 5, 5, 0, 0, 0]
    let v = [Float](repeating: 0.25, count: classes * dimensions)
    let expected = Float(log(6.0) * (1 + 1 + 0.5) / 4 * 1.5)
    let value = loss(p, v)
    print("coincident class vectors: loss \(value), expected \(expected)")
    XCTAssertEqual(value, expected, accuracy: 1e-6)
  }

  func testGradientsMatchFiniteDifferences() {
    var random = TestRandom(seed: 7)
    let p = random.array(batch * dimensions)
    let v = random.array(classes * dimensions)
    let (dp, dv) = gradients(p, v, start: 0)
    let numericP = centralDifferences(p, h: 1e-2) { loss($0, v) }
    let numericV = centralDifferences(v, h: 1e-2) { loss(p, $0) }
    let errorP = maxRelativeError(dp, numericP)
    let errorV = maxRelativeError(dv, numericV)
    print("embedding loss gradient vs finite differences: predictions \(errorP), class vectors \(errorV)")
    XCTAssertLessThan(errorP, 2e-3)
    XCTAssertLessThan(errorV, 2e-3)
    // The missing row (label -1) gets no gradient.
    XCTAssertEqual(Array(dp[(2 * dimensions)..<(3 * dimensions)]), [0, 0, 0])
    // Backward accumulates.
    let (dp2, dv2) = gradients(p, v, start: 0.5)
    XCTAssertLessThan(maxAbsDiff(dp2.map { $0 - 0.5 }, dp), 1e-6)
    XCTAssertLessThan(maxAbsDiff(dv2.map { $0 - 0.5 }, dv), 1e-6)
  }

  /// The one-pass form training uses gives the separate passes' loss and gradients bit for bit,
  /// for 12 classes of 10 dimensions (four classes at a time, no tail) and the 6 x 3 above.
  func testOnePassEqualsForwardAndBackwardBitForBit() {
    var random = TestRandom(seed: 9)
    for (classes, dimensions) in [(12, 10), (self.classes, self.dimensions)] {
      let batch = 9
      let labels = (0..<batch).map { Int32($0 % 4 == 2 ? -1 : ($0 * 5) % classes) }
      let weights = (0..<batch).map { Float(1 + $0 % 3) / 2 }
      let p = random.array(batch * dimensions)
      let v = random.array(classes * dimensions)
      var (dp1, dv1) = (random.array(p.count), random.array(v.count))
      var (dp2, dv2) = (dp1, dv1)
      var (separate, together): (Float, Float) = (0, 0)
      p.withUnsafeBufferPointer { p in
        v.withUnsafeBufferPointer { v in
          labels.withUnsafeBufferPointer { y in
            weights.withUnsafeBufferPointer { w in
              separate = embeddingLossForward(
                predictions: p, classVectors: v, labels: y, rowWeights: w, lossWeight: 1, sigma: 0.5, batch: batch,
                classes: classes, dimensions: dimensions)
              dp1.withUnsafeMutableBufferPointer { dp in
                dv1.withUnsafeMutableBufferPointer { dv in
                  embeddingLossBackward(
                    dPredictions: dp, dClassVectors: dv, predictions: p, classVectors: v, labels: y, rowWeights: w,
                    lossWeight: 0.7, sigma: 0.5, batch: batch, classes: classes, dimensions: dimensions)
                }
              }
              dp2.withUnsafeMutableBufferPointer { dp in
                dv2.withUnsafeMutableBufferPointer { dv in
                  together = embeddingLossAndGradient(
                    dPredictions: dp, dClassVectors: dv, predictions: p, classVectors: v, labels: y, rowWeights: w,
                    lossWeight: 0.7, sigma: 0.5, batch: batch, classes: classes, dimensions: dimensions)
                }
              }
            }
          }
        }
      }
      XCTAssertEqual(separate.bitPattern, together.bitPattern)
      XCTAssertEqual(dp1.map(\.bitPattern), dp2.map(\.bitPattern))
      XCTAssertEqual(dv1.map(\.bitPattern), dv2.map(\.bitPattern))
    }
  }

  func testNearestClass() {
    let v: [Float] = [1, 0, 0, 1, -1, 0, 0, -1]
    let p: [Float] = [0.9, 0.2, -0.1, -2, -0.1, 0.3]
    let nearest = p.withUnsafeBufferPointer { p in
      v.withUnsafeBufferPointer { v in
        nearestClass(predictions: p, classVectors: v, batch: 3, classes: 4, dimensions: 2)
      }
    }
    XCTAssertEqual(nearest, [0, 3, 1])
  }
}
