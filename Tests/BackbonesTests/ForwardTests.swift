import XCTest

@testable import Backbones

final class ForwardTests: XCTestCase {
  /// The fast path (folded BN, fused epilogues, chunked im2col, GEMM) equals the naive
  /// whole-network reference (literal conv, BN, add, ReLU) on a small input, for every tap.
  func testFastPathMatchesNaiveReference() throws {
    // Every backbone with Winograd F(4x4, 3x3) convolutions (the default); ResNet50 and VGG16
    // also with F(2x2, 3x3), ResNet50 also without Winograd.
    let variants: [(BackboneKind, winograd: Bool, large: Bool)] =
      BackboneKind.allCases.map { ($0, true, true) } + [
        (.resnet50, true, false), (.vgg16, true, false), (.resnet50, false, false),
      ]
    for (kind, winograd, large) in variants {
      let weights = CachedWeights.of(kind)
      // imagesPerPass 1 with 2 images also exercises the passes over a batch.
      let backbone = try Backbone(
        kind: kind, weights: weights, imagesPerPass: 1, winograd: winograd, largeWinogradTiles: large)
      // Two images for ResNet50; one for VGG, whose naive reference is slow in debug builds.
      let (n, h, w) = kind == .resnet50 ? (2, 32, 35) : (1, 33, 32)
      var state: UInt32 = 12345
      let input: [Float] = (0..<(n * h * w * 3)).map { _ in
        state = state &* 1_664_525 &+ 1_013_904_223
        return Float(state >> 8) / Float(1 << 24) * 250 - 125  // 'caffe'-like range
      }
      let taps = ["blocks", "last"]
      let started = Date()
      let fast = try input.withUnsafeBufferPointer {
        try backbone.features($0, count: n, height: h, width: w, taps: taps)
      }
      let reference = try referenceFeatures(
        kind: kind, weights: weights, input: input, count: n, height: h, width: w, taps: taps)
      XCTAssertEqual(fast.count, n * (try backbone.tapWidths(taps)).reduce(0, +))
      var worst: Float = 0
      for i in 0..<fast.count { worst = max(worst, abs(fast[i] - reference[i])) }
      print(
        "\(kind) (winograd \(winograd), 4x4 tiles \(large)) fast vs naive reference (\(h)x\(w), taps \(taps)): "
          + "max |diff| = \(worst), "
          + "\(String(format: "%.1f", Date().timeIntervalSince(started))) s")
      XCTAssertLessThan(worst, 1e-5, "\(kind)")
      XCTAssertFalse(fast.contains { $0.isNaN })
      // The features carry signal: not constant, and the images differ.
      XCTAssertGreaterThan(Set(fast).count, fast.count / 4, "\(kind)")
      if n == 2 {
        let row = fast.count / 2
        XCTAssertNotEqual(Array(fast[0..<row]), Array(fast[row...]), "\(kind)")
      }
    }
  }

  func testFeaturesValidateInput() throws {
    let backbone = try Backbone(
      kind: .vgg16, weights: CachedWeights.vgg16, winograd: false)
    let small = [Float](repeating: 0, count: 31 * 40 * 3)
    XCTAssertThrowsError(
      try small.withUnsafeBufferPointer {
        try backbone.features($0, count: 1, height: 31, width: 40, taps: ["last"])
      })
    XCTAssertThrowsError(
      try small.withUnsafeBufferPointer {
        try backbone.features($0, count: 2, height: 31, width: 40, taps: ["last"])
      })
    XCTAssertEqual(try backbone.tapWidths(["blocks", "last"]), [64, 128, 256, 512, 512, 512])
  }

  /// The second call reuses the first call's workspace (stale values in it must not leak
  /// into results), and a batch's rows equal the images run one at a time (to rounding: the
  /// GEMM's blocking, hence its summation order, depends on the batch size).
  func testRepeatedCallsAgree() throws {
    let backbone = try Backbone(
      kind: .resnet50, weights: CachedWeights.resnet50, imagesPerPass: 2)
    let (h, w) = (40, 33)
    let input: [Float] = (0..<(3 * h * w * 3)).map { Float(($0 * 7919) % 255) - 120 }
    let batch = try input.withUnsafeBufferPointer {
      try backbone.features($0, count: 3, height: h, width: w, taps: ["last"])
    }
    let second = try input.withUnsafeBufferPointer {
      try backbone.features(
        UnsafeBufferPointer(rebasing: $0[(h * w * 3)..<(2 * h * w * 3)]), count: 1, height: h, width: w,
        taps: ["last"])
    }
    var worst: Float = 0
    for j in 0..<2048 { worst = max(worst, abs(second[j] - batch[2048 + j])) }
    print("image alone vs in a batch of 3: max |diff| = \(worst)")
    XCTAssertLessThan(worst, 1e-6)
    let again = try input.withUnsafeBufferPointer {
      try backbone.features($0, count: 3, height: h, width: w, taps: ["last"])
    }
    XCTAssertTrue(again == batch, "a repeated call differs")
  }
}
