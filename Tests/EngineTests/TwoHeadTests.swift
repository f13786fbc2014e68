import XCTest

@testable import Engine

/// A whole tiny model as fit-heads will run it: x (6, 5) -> Dense(4) + ReLU -> a softmax
/// classifier (3) and a tanh regressor (2), loss weights, masked rows, all parameters in one
/// flat buffer. Checked against Keras' own train_on_batch step and finite differences.
final class TwoHeadTests: XCTestCase {
  // Parameter views in Keras' get_weights order: hidden W (5, 4), b (4); cls W (4, 3), b (3);
  // reg W (4, 2), b (2).
  static let sizes = [20, 4, 12, 3, 8, 2]
  static let offsets = sizes.indices.map { sizes[..<$0].reduce(0, +) }

  /// Loss and (if asked) its gradient (P) for parameters (P).
  static func lossAndGradient(_ step: TwoHeadStep, _ params: [Float], gradient: inout [Float]) -> Float {
    let (b, d, h, c, r) = (6, 5, 4, 3, 2)
    let x = step.x.flatFloats
    let yc = step.yClass.flatFloats
    let yr = step.yRegression.flatFloats
    let mc = step.maskClass.map(Float.init)
    let mr = step.maskRegression.map(Float.init)
    let (lwc, lwr) = (Float(step.lossWeights[0]), Float(step.lossWeights[1]))
    var hidden = [Float](repeating: 0, count: b * h)  // (B, H) after ReLU
    var logits = [Float](repeating: 0, count: b * c)  // (B, C)
    var probs = [Float](repeating: 0, count: b * c)  // (B, C)
    var out = [Float](repeating: 0, count: b * r)  // (B, R) after tanh
    var dHidden = [Float](repeating: 0, count: b * h)
    var dLogits = [Float](repeating: 0, count: b * c)
    var dOut = [Float](repeating: 0, count: b * r)
    var dPre = [Float](repeating: 0, count: b * r)
    var loss: Float = 0
    params.withUnsafeBufferPointer { p in
      gradient.withUnsafeMutableBufferPointer { g in
        func view(_ i: Int) -> UnsafeBufferPointer<Float> {
          UnsafeBufferPointer(rebasing: p[offsets[i]..<(offsets[i] + sizes[i])])
        }
        func grad(_ i: Int) -> UnsafeMutableBufferPointer<Float> {
          UnsafeMutableBufferPointer(rebasing: g[offsets[i]..<(offsets[i] + sizes[i])])
        }
        x.withUnsafeBufferPointer { x in
          hidden.withUnsafeMutableBufferPointer { hid in
            denseForward(hid, x, weight: view(0), bias: view(1), batch: b, inFeatures: d, outFeatures: h)
            reluForward(hid, UnsafeBufferPointer(hid))
            let hc = UnsafeBufferPointer(hid)
            logits.withUnsafeMutableBufferPointer { z in
              probs.withUnsafeMutableBufferPointer { pr in
                denseForward(z, hc, weight: view(2), bias: view(3), batch: b, inFeatures: h, outFeatures: c)
                softmaxForward(pr, UnsafeBufferPointer(z), rows: b, width: c)
                yc.withUnsafeBufferPointer { t in
                  mc.withUnsafeBufferPointer { m in
                    loss += categoricalCrossEntropyForward(
                      logits: UnsafeBufferPointer(z), labels: t, rowWeights: m, lossWeight: lwc, batch: b,
                      classes: c)
                    dLogits.withUnsafeMutableBufferPointer { dz in
                      categoricalCrossEntropyBackward(
                        dz, probabilities: UnsafeBufferPointer(pr), labels: t, rowWeights: m, lossWeight: lwc,
                        batch: b, classes: c)
                    }
                  }
                }
              }
            }
            out.withUnsafeMutableBufferPointer { o in
              denseForward(o, hc, weight: view(4), bias: view(5), batch: b, inFeatures: h, outFeatures: r)
              tanhForward(o, UnsafeBufferPointer(o))
              let oc = UnsafeBufferPointer(o)
              yr.withUnsafeBufferPointer { t in
                mr.withUnsafeBufferPointer { m in
                  loss += meanSquaredErrorForward(
                    predictions: oc, labels: t, rowWeights: m, lossWeight: lwr, batch: b, width: r)
                  dOut.withUnsafeMutableBufferPointer { dy in
                    meanSquaredErrorBackward(
                      dy, predictions: oc, labels: t, rowWeights: m, lossWeight: lwr, batch: b, width: r)
                    dPre.withUnsafeMutableBufferPointer { tanhBackward($0, UnsafeBufferPointer(dy), y: oc) }
                  }
                }
              }
            }
            // Both heads add into dHidden; the first layer's dx is not needed (fixed features).
            dHidden.withUnsafeMutableBufferPointer { dh in
              dLogits.withUnsafeBufferPointer { dz in
                denseBackward(
                  dx: dh, dWeight: grad(2), dBias: grad(3), dy: dz, x: hc, weight: view(2),
                  batch: b, inFeatures: h, outFeatures: c)
              }
              dPre.withUnsafeBufferPointer { dz in
                denseBackward(
                  dx: dh, dWeight: grad(4), dBias: grad(5), dy: dz, x: hc, weight: view(4),
                  batch: b, inFeatures: h, outFeatures: r)
              }
              var dPreHidden = [Float](repeating: 0, count: b * h)
              dPreHidden.withUnsafeMutableBufferPointer { dph in
                reluBackward(dph, UnsafeBufferPointer(dh), y: hc)
                denseBackward(
                  dx: nil, dWeight: grad(0), dBias: grad(1), dy: UnsafeBufferPointer(dph), x: x,
                  weight: view(0), batch: b, inFeatures: d, outFeatures: h)
              }
            }
          }
        }
      }
    }
    return loss
  }

  func testTwoHeadStepMatchesKerasAndFiniteDifferences() throws {
    let step = try HeadsFixture.loadTwoHeadStep()
    var params = step.weightsBefore.flatFloats
    XCTAssertEqual(params.count, Self.sizes.reduce(0, +))
    var grads = [Float](repeating: 0, count: params.count)
    let loss = Self.lossAndGradient(step, params, gradient: &grads)
    var scratch = [Float](repeating: 0, count: params.count)
    let numeric = centralDifferences(params, h: 1e-2) { Self.lossAndGradient(step, $0, gradient: &scratch) }
    let rel = maxRelativeError(grads, numeric)
    params.withUnsafeMutableBufferPointer { p in
      grads.withUnsafeBufferPointer {
        sgdUpdate(params: p, grads: $0, velocity: nil, learningRate: step.learningRate)
      }
    }
    let weightDiff = maxAbsDiff(params, step.weightsAfter.flatFloats)
    let lossDiff = abs(Double(loss) - step.loss)
    print(
      "two-head step vs Keras: loss \(loss) (|diff| \(lossDiff)), weights after SGD max |diff| \(weightDiff);"
        + " gradient vs finite differences max rel error \(rel)")
    XCTAssertLessThan(lossDiff, 1e-5)
    XCTAssertLessThan(weightDiff, 1e-6)
    XCTAssertLessThan(rel, 3e-3)
  }
}
