import Foundation
import XCTest

@testable import Engine

/// The engine's backward passes against gradients TensorFlow's GradientTape took through the
/// Keras layers themselves (Tests/Fixtures/keras_backward/make_keras_backward_fixtures.py,
/// Keras 3.15.1, TF 2.21). Tolerance: max |ours - keras| / max |keras| per tensor below 1e-5
/// (float32 sums in a different order differ by a few ulps of the tensor's scale).
final class KerasBackwardTests: XCTestCase {
  struct Fixture: Decodable {
    struct Conv: Decodable {
      var batch, height, width, inChannels, outChannels, kernelHeight, kernelWidth, stride: Int
      var padding: String
      var x, kernel, bias, y, dy, dx, dKernel, dBias: [Float]
    }
    struct BatchNorm: Decodable {
      var training: Bool
      var batch, height, width, channels: Int
      var epsilon, momentum: Double
      var x, gamma, beta, movingMean, movingVariance, y, dy, dx, dGamma, dBeta: [Float]
      var movingMeanAfter, movingVarianceAfter: [Float]
    }
    struct MaxPool: Decodable {
      var kind, padding: String
      var size, stride, batch, height, width, channels: Int
      var x, y, dy, dx: [Float]
    }
    struct L2: Decodable {
      var rows, width: Int
      var x, y, dy, dx: [Float]
    }
    var keras: String
    var conv: [Conv]
    var batchNorm: [BatchNorm]
    var maxPool: [MaxPool]
    var l2Normalize: L2
  }

  func load() throws -> Fixture {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures/keras_backward/keras_backward.json")
    return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
  }

  /// max |a - b| / max |b|.
  func scaledError(_ a: [Float], _ b: [Float]) -> Float {
    maxAbsDiff(a, b) / max(b.map(abs).max() ?? 0, 1e-30)
  }

  func testConvBackwardMatchesKeras() throws {
    var worst: Float = 0
    for c in try load().conv {
      let window = Window2D(
        height: c.kernelHeight, width: c.kernelWidth, strideHeight: c.stride, strideWidth: c.stride,
        padding: c.padding == "same"
          ? Padding2D.same(
            height: c.height, width: c.width, window: (c.kernelHeight, c.kernelWidth),
            stride: (c.stride, c.stride))
          : .zero)
      let s = ConvShape(
        batch: c.batch, height: c.height, width: c.width, inChannels: c.inChannels,
        outChannels: c.outChannels,
        window: window)
      XCTAssertEqual(s.outputCount, c.y.count, "output shape of \(s)")
      let (x, k, b, dy) = (TestBuffer(c.x), TestBuffer(c.kernel), TestBuffer(c.bias), TestBuffer(c.dy))
      let y = TestBuffer(repeating: .nan, count: s.outputCount)
      let scratch = TestBuffer(repeating: 0, count: max(conv2dScratchCount(s), 1))
      conv2dForward(y.m, x.r, kernel: k.r, bias: b.r, shape: s, scratch: scratch.m)
      let dx = TestBuffer(repeating: 0, count: s.inputCount)
      let dk = TestBuffer(repeating: 0, count: s.kernelCount)
      let db = TestBuffer(repeating: 0, count: s.outChannels)
      conv2dBackward(
        dInput: dx.m, dKernel: dk.m, dBias: db.m, dOutput: dy.r, input: x.r, kernel: k.r, shape: s,
        scratch: scratch.m)
      keep(x, k, b, dy, scratch)
      let e = max(
        scaledError(y.array, c.y), scaledError(dx.array, c.dx), scaledError(dk.array, c.dKernel),
        scaledError(db.array, c.dBias))
      worst = max(worst, e)
      XCTAssertLessThan(e, 1e-5, "\(c.kernelHeight)x\(c.kernelWidth)/\(c.stride) \(c.padding)")
    }
    print("conv2d vs Keras GradientTape: max scaled error \(worst)")
  }

  func testBatchNormBackwardMatchesKeras() throws {
    for c in try load().batchNorm {
      let rows = c.batch * c.height * c.width
      var bn = BatchNormParameters(
        gamma: c.gamma, beta: c.beta, movingMean: c.movingMean, movingVariance: c.movingVariance,
        epsilon: c.epsilon)
      let (x, dy, gamma) = (TestBuffer(c.x), TestBuffer(c.dy), TestBuffer(c.gamma))
      let y = TestBuffer(repeating: .nan, count: c.x.count)
      let dx = TestBuffer(repeating: 0, count: c.x.count)
      let (dg, db) = (
        TestBuffer(repeating: 0, count: c.channels), TestBuffer(repeating: 0, count: c.channels)
      )
      var moving: Float = 0
      if c.training {
        var stats = BatchNormBatchStatistics(channels: c.channels)
        batchNormTrainingForward(
          y.m, x.r, rows: rows, batchNorm: &bn, momentum: Float(c.momentum), statistics: &stats)
        batchNormTrainingBackward(
          dx: dx.m, dGamma: dg.m, dBeta: db.m, dy: dy.r, x: x.r, rows: rows, gamma: gamma.r, statistics: stats
        )
        moving = max(
          scaledError(bn.movingMean, c.movingMeanAfter), scaledError(bn.movingVariance, c.movingVarianceAfter)
        )
      } else {
        batchNormFrozenForward(y.m, x.r, rows: rows, batchNorm: bn)
        batchNormFrozenBackward(
          dx: dx.m, dGamma: dg.m, dBeta: db.m, dy: dy.r, x: x.r, rows: rows, batchNorm: bn)
        XCTAssertEqual(c.movingMeanAfter, c.movingMean)  // Keras leaves them alone too
      }
      keep(x, dy, gamma)
      let e = max(
        scaledError(y.array, c.y), scaledError(dx.array, c.dx), scaledError(dg.array, c.dGamma),
        scaledError(db.array, c.dBeta))
      print(
        "batch norm (training \(c.training)) vs Keras: max scaled error \(e), moving statistics \(moving)")
      XCTAssertLessThan(e, 1e-5)
      XCTAssertLessThan(moving, 1e-6)
    }
  }

  /// Ties in every window: TF sends the gradient to the first maximum in scan order, and with
  /// ZeroPadding2D in front (ResNet's pool1) to the padding when a padding zero comes first.
  func testMaxPoolBackwardMatchesKerasWithTies() throws {
    for c in try load().maxPool {
      let (padding, padValue): (Padding2D, Float) =
        switch c.padding {
        case "same":
          (
            Padding2D.same(
              height: c.height, width: c.width, window: (c.size, c.size), stride: (c.stride, c.stride)),
            -.infinity
          )
        case "zero1": (Padding2D(all: 1), 0)
        default: (.zero, 0)
        }
      let window = Window2D(
        height: c.size, width: c.size, strideHeight: c.stride, strideWidth: c.stride, padding: padding)
      let (x, dy) = (TestBuffer(c.x), TestBuffer(c.dy))
      let y = TestBuffer(repeating: .nan, count: c.y.count)
      maxPool2dForward(
        y.m, x.r, batch: c.batch, height: c.height, width: c.width, channels: c.channels, window: window,
        padValue: padValue)
      let dx = TestBuffer(repeating: 0, count: c.x.count)
      maxPool2dBackward(
        dx.m, dy.r, input: x.r, batch: c.batch, height: c.height, width: c.width, channels: c.channels,
        window: window, padValue: padValue)
      keep(x, dy)
      let e = max(maxAbsDiff(y.array, c.y), maxAbsDiff(dx.array, c.dx))
      print("max pool \(c.kind) vs Keras (ties): max |diff| \(e)")
      XCTAssertEqual(e, 0, c.kind)
    }
  }

  func testL2NormalizeBackwardMatchesTF() throws {
    let c = try load().l2Normalize
    let (x, dy) = (TestBuffer(c.x), TestBuffer(c.dy))
    let y = TestBuffer(c.x)
    l2NormalizeRows(y.m, rows: c.rows, width: c.width)
    let dx = TestBuffer(repeating: 0, count: c.x.count)
    l2NormalizeRowsBackward(dx.m, dy.r, x: x.r, rows: c.rows, width: c.width)
    keep(x, dy)
    // Per row: the below-epsilon row's gradient is 1e6 times larger than the others.
    var e: Float = 0
    for r in 0..<c.rows {
      let span = (r * c.width)..<((r + 1) * c.width)
      e = max(
        e, scaledError(Array(y.array[span]), Array(c.y[span])),
        scaledError(Array(dx.array[span]), Array(c.dx[span])))
    }
    print("l2 normalize vs tf.math.l2_normalize: max scaled error per row \(e)")
    XCTAssertLessThan(e, 1e-5)
  }
}
