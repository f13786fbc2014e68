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

  /// Where a forward pass splits: VGG's large early activations run a few images at a time up
  /// to the first small output after them that is all later layers read; ResNet50 at 224x224
  /// and small inputs or batches do not split.
  func testPassSegments() throws {
    func segments(_ kind: BackboneKind, _ size: (Int, Int), count: Int) throws -> [String] {
      let backbone = try Backbone(kind: kind, weights: CachedWeights.of(kind))
      let plan = backbone.architecture.plan(height: size.0, width: size.1)
      return backbone.passSegments(plan, imageSize: size.0 * size.1 * 3, count: count).map {
        "\(backbone.architecture.layers[$0.layers.upperBound - 1].outputName) x\($0.images)"
      }
    }
    XCTAssertEqual(try segments(.vgg16, (224, 224), count: 64), ["block2_pool x5", "block5_pool x16"])
    XCTAssertEqual(try segments(.vgg19, (224, 224), count: 64), ["block2_pool x5", "block5_pool x16"])
    XCTAssertEqual(try segments(.vgg16, (160, 160), count: 12), ["block1_pool x10", "block5_pool x12"])
    XCTAssertEqual(try segments(.vgg16, (224, 224), count: 5), ["block5_pool x5"])
    XCTAssertEqual(try segments(.vgg16, (96, 128), count: 64), ["block5_pool x16"])
    XCTAssertEqual(try segments(.resnet50, (224, 224), count: 64), ["conv5_block3_out x16"])
  }

  /// Features with the pass split in two (VGG16 at 160x160, 12 images: 10 then 12 at a time)
  /// equal the same images run one at a time, every block's tap included.
  func testSplitPassesMatchOneImageAtATime() throws {
    let (h, w, count) = (160, 160, 12)
    let input: [Float] = (0..<(count * h * w * 3)).map { Float(($0 * 7919) % 255) - 120 }
    func features(imagesPerPass: Int) throws -> [Float] {
      let backbone = try Backbone(kind: .vgg16, weights: CachedWeights.vgg16, imagesPerPass: imagesPerPass)
      return try input.withUnsafeBufferPointer {
        try backbone.features($0, count: count, height: h, width: w, taps: ["blocks"])
      }
    }
    let split = try features(imagesPerPass: 16)
    let single = try features(imagesPerPass: 1)
    let worst = zip(split, single).map { abs($0 - $1) }.max()!
    print("VGG16 160x160, 12 images, passes split 10 | 12 vs one at a time: max |diff| = \(worst)")
    XCTAssertLessThanOrEqual(worst, 1e-6)
  }
}
