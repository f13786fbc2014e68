import XCTest

@testable import Engine

final class LayerTests: XCTestCase {
  /// conv with the folded kernel == conv, then BN, with Keras ResNet50's epsilon.
  func testBatchNormFoldMatchesUnfoldedConvThenBatchNorm() {
    var rng = TestRandom(seed: 3)
    let window = Window2D(
      height: 3, width: 3, strideHeight: 2, strideWidth: 2,
      padding: Padding2D(top: 0, bottom: 1, left: 0, right: 1))
    let shape = ConvShape(batch: 2, height: 8, width: 7, inChannels: 5, outChannels: 6, window: window)
    let x = rng.array(shape.inputCount)
    let k = rng.array(shape.kernelCount)
    let b = rng.array(6)
    let bn = BatchNormParameters(
      gamma: rng.array(6).map { 1 + 0.5 * $0 }, beta: rng.array(6), movingMean: rng.array(6),
      movingVariance: rng.array(6).map { 1 + 0.9 * $0 }, epsilon: 1.001e-5)
    let (fk, fb) = foldBatchNorm(kernel: k, bias: b, batchNorm: bn)
    var folded = [Float](repeating: 0, count: shape.outputCount)
    var reference = folded
    var scratch = [Float](repeating: 0, count: shape.batch * shape.columnsPerImage)
    x.withUnsafeBufferPointer { xp in
      fk.withUnsafeBufferPointer { kp in
        fb.withUnsafeBufferPointer { bp in
          folded.withUnsafeMutableBufferPointer { o in
            scratch.withUnsafeMutableBufferPointer {
              conv2dForward(o, xp, kernel: kp, bias: bp, shape: shape, scratch: $0)
            }
          }
        }
      }
      k.withUnsafeBufferPointer { kp in
        b.withUnsafeBufferPointer { bp in
          reference.withUnsafeMutableBufferPointer { o in
            conv2dForwardNaive(o, xp, kernel: kp, bias: bp, shape: shape)
            batchNormInferenceNaive(o, rows: shape.outputCount / 6, batchNorm: bn)
          }
        }
      }
    }
    let d = maxAbsDiff(folded, reference)
    print("BN fold vs conv+BN: max |diff| = \(d)")
    XCTAssertLessThan(d, 2e-5)
  }

  func testMaxPoolMatchesNaive() {
    var rng = TestRandom(seed: 5)
    let cases: [(Int, Int, Int, Window2D, Float)] = [
      (8, 8, 3, Window2D(height: 2, width: 2, strideHeight: 2, strideWidth: 2), 0),  // VGG
      (7, 9, 4, Window2D(height: 2, width: 2, strideHeight: 2, strideWidth: 2), 0),  // odd: floors
      (
        9, 10, 5, Window2D(height: 3, width: 3, strideHeight: 2, strideWidth: 2, padding: Padding2D(all: 1)),
        0
      ),  // ResNet
      (
        6, 5, 2,
        Window2D(
          height: 3, width: 2, strideHeight: 1, strideWidth: 2,
          padding: Padding2D(top: 0, bottom: 2, left: 1, right: 0)
        ), -.infinity
      ),
    ]
    var worst: Float = 0
    for (h, w, c, window, pad) in cases {
      let n = 2
      let x = rng.array(n * h * w * c)
      let count = n * window.outputHeight(h) * window.outputWidth(w) * c
      var fast = [Float](repeating: .nan, count: count)
      var naive = fast
      x.withUnsafeBufferPointer { xp in
        fast.withUnsafeMutableBufferPointer {
          maxPool2dForward($0, xp, batch: n, height: h, width: w, channels: c, window: window, padValue: pad)
        }
        naive.withUnsafeMutableBufferPointer {
          maxPool2dForwardNaive(
            $0, xp, batch: n, height: h, width: w, channels: c, window: window, padValue: pad)
        }
      }
      worst = max(worst, maxAbsDiff(fast, naive))
      XCTAssertEqual(fast, naive, "\(h)x\(w)x\(c) \(window)")
    }
    print("max pool fast vs naive: max |diff| = \(worst)")
    // Zero padding is visible when every input is negative: the padded corner wins.
    let neg: [Float] = [-1, -2, -3, -4]
    var out: [Float] = [0]
    let w = Window2D(height: 3, width: 3, strideHeight: 2, strideWidth: 2, padding: Padding2D(all: 1))
    neg.withUnsafeBufferPointer { x in
      out.withUnsafeMutableBufferPointer {
        maxPool2dForward($0, x, batch: 1, height: 2, width: 2, channels: 1, window: w)
      }
    }
    XCTAssertEqual(out, [0])
  }

  func testGlobalAveragePoolAndL2Normalize() {
    var rng = TestRandom(seed: 9)
    let (n, h, w, c) = (3, 5, 7, 6)
    let x = rng.array(n * h * w * c)
    var fast = [Float](repeating: 0, count: n * c)
    var naive = fast
    x.withUnsafeBufferPointer { xp in
      fast.withUnsafeMutableBufferPointer {
        globalAveragePool($0, xp, batch: n, height: h, width: w, channels: c)
      }
      naive.withUnsafeMutableBufferPointer {
        globalAveragePoolNaive($0, xp, batch: n, height: h, width: w, channels: c)
      }
    }
    let d = maxAbsDiff(fast, naive)
    print("GAP fast vs naive: max |diff| = \(d)")
    XCTAssertLessThan(d, 1e-6)

    var rows: [Float] = [3, 4, 0, 0, 0, 0, 1e-7, 0]
    rows.withUnsafeMutableBufferPointer { l2NormalizeRows($0, rows: 4, width: 2) }
    XCTAssertEqual(rows[0], 0.6, accuracy: 1e-7)
    XCTAssertEqual(rows[1], 0.8, accuracy: 1e-7)
    XCTAssertEqual(rows[2], 0)  // zero row stays zero (epsilon), no NaN
    // Below the epsilon the norm is clamped to 1e-6: 1e-7 * 1e6 = 0.1, as TF gives.
    XCTAssertEqual(rows[6], 0.1, accuracy: 1e-7)
  }
}
