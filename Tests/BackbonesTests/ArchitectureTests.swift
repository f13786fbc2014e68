import XCTest

@testable import Backbones

final class ArchitectureTests: XCTestCase {
  /// Keras' model.count_params() for include_top=False (BN moving statistics included).
  func testParameterCountsEqualKeras() {
    let expected: [BackboneKind: (params: Int, arrays: Int)] = [
      .resnet50: (23_587_712, 318), .vgg16: (14_714_688, 26), .vgg19: (20_024_384, 32),
    ]
    for kind in BackboneKind.allCases {
      let specs = parameterSpecs(for: kind)
      let total = specs.reduce(0) { $0 + $1.shape.reduce(1, *) }
      XCTAssertEqual(total, expected[kind]!.params, "\(kind)")
      XCTAssertEqual(specs.count, expected[kind]!.arrays, "\(kind)")
    }
    let resnet = parameterSpecs(for: .resnet50)
    XCTAssertEqual(resnet.first, ParameterSpec(layer: "conv1_conv", kind: .kernel, shape: [7, 7, 3, 64]))
    XCTAssertTrue(
      resnet.contains(ParameterSpec(layer: "conv3_block1_0_conv", kind: .kernel, shape: [1, 1, 256, 512])))
    XCTAssertTrue(
      resnet.contains(ParameterSpec(layer: "conv4_block6_2_conv", kind: .kernel, shape: [3, 3, 256, 256])))
    XCTAssertTrue(
      resnet.contains(ParameterSpec(layer: "conv5_block3_3_bn", kind: .movingVariance, shape: [2048])))
    XCTAssertFalse(resnet.contains { $0.layer == "conv2_block2_0_conv" })  // identity shortcut
    XCTAssertEqual(
      parameterSpecs(for: .vgg19).last, ParameterSpec(layer: "block5_conv4", kind: .bias, shape: [512]))
  }

  func testTapPresetsAndNames() throws {
    XCTAssertEqual(BackboneKind.resnet50.blockTaps.count, 16)
    XCTAssertEqual(BackboneKind.resnet50.blockTaps.first, "conv2_block1_out")
    XCTAssertEqual(BackboneKind.resnet50.blockTaps.last, "conv5_block3_out")
    XCTAssertEqual(BackboneKind.vgg16.blockTaps, (1...5).map { "block\($0)_pool" })
    XCTAssertEqual(BackboneKind.vgg19.lastTap, "block5_pool")
    XCTAssertTrue(BackboneKind.resnet50.allTapNames.contains("conv3_block2_1_relu"))
    XCTAssertTrue(BackboneKind.resnet50.allTapNames.contains("pool1_pool"))
    XCTAssertTrue(BackboneKind.vgg19.allTapNames.contains("block3_conv4"))
    XCTAssertFalse(BackboneKind.vgg16.allTapNames.contains("block3_conv4"))
    XCTAssertEqual(
      try BackboneKind.vgg16.resolveTaps(["last", "block1_pool"]), ["block5_pool", "block1_pool"])
    XCTAssertThrowsError(try BackboneKind.resnet50.resolveTaps(["conv2_block9_out"])) { error in
      let message = String(describing: error)
      XCTAssertTrue(message.contains("conv2_block9_out") && message.contains("'blocks'"), message)
    }
  }

  /// Output sizes by Keras' rules, worked by hand.
  /// ResNet50: conv1_pad +6, 7x7/2 valid: (s + 6 - 7) / 2 + 1; pool1_pad +2, 3x3/2 valid:
  /// (s + 2 - 3) / 2 + 1; each later stage's 1x1/2 valid: (s - 1) / 2 + 1 = ceil(s / 2).
  ///   224: 112, 56 | 56, 28, 14, 7.   32: 16, 8 | 8, 4, 2, 1.
  ///   97x130: 49x65, 25x33 | 25x33, 13x17, 7x9, 4x5.
  /// VGG: 3x3 'same' keeps the size, each 2x2/2 valid pool floors: 224 -> 112, 56, 28, 14, 7;
  ///   32 -> 16, 8, 4, 2, 1; 97x130 -> 48x65, 24x32, 12x16, 6x8, 3x4.
  func testSpatialArithmeticMatchesKeras() throws {
    let resnet = BackboneKind.resnet50
    let cases: [(Int, Int, String, (Int, Int, Int))] = [
      (224, 224, "conv1_relu", (112, 112, 64)), (224, 224, "pool1_pool", (56, 56, 64)),
      (224, 224, "conv2_block3_out", (56, 56, 256)), (224, 224, "conv3_block1_1_relu", (28, 28, 128)),
      (224, 224, "conv4_block6_out", (14, 14, 1024)), (224, 224, "conv5_block3_out", (7, 7, 2048)),
      (32, 32, "conv1_relu", (16, 16, 64)), (32, 32, "pool1_pool", (8, 8, 64)),
      (32, 32, "conv3_block4_out", (4, 4, 512)), (32, 32, "conv5_block3_out", (1, 1, 2048)),
      (97, 130, "conv1_relu", (49, 65, 64)), (97, 130, "pool1_pool", (25, 33, 64)),
      (97, 130, "conv2_block1_0_bn", (25, 33, 256)), (97, 130, "conv3_block1_out", (13, 17, 512)),
      (97, 130, "conv4_block1_2_relu", (7, 9, 256)), (97, 130, "conv5_block3_out", (4, 5, 2048)),
    ]
    for (h, w, tap, e) in cases {
      let s = try resnet.outputShape(ofTap: tap, height: h, width: w)
      XCTAssertTrue(s == e, "resnet50 \(h)x\(w) \(tap): \(s) != \(e)")
    }
    for k in [BackboneKind.vgg16, .vgg19] {
      let vgg = k
      let pools: [(Int, Int, [(Int, Int)])] = [
        (224, 224, [(112, 112), (56, 56), (28, 28), (14, 14), (7, 7)]),
        (32, 32, [(16, 16), (8, 8), (4, 4), (2, 2), (1, 1)]),
        (97, 130, [(48, 65), (24, 32), (12, 16), (6, 8), (3, 4)]),
      ]
      for (h, w, sizes) in pools {
        for (b, e) in sizes.enumerated() {
          let s = try vgg.outputShape(ofTap: "block\(b + 1)_pool", height: h, width: w)
          XCTAssertTrue(s.height == e.0 && s.width == e.1, "\(k) \(h)x\(w) block\(b + 1)_pool: \(s) != \(e)")
        }
      }
      XCTAssertTrue(try vgg.outputShape(ofTap: "block3_conv2", height: 97, width: 130) == (24, 32, 256))
    }
  }

}
