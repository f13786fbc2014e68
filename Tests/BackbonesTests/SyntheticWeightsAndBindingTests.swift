import XCTest

@testable import Backbones

final class SyntheticWeightsAndBindingTests: XCTestCase {
  /// Known values of the Docs/keras-parity.md generator, worked through by hand for seed 0:
  ///   key("0:conv1_conv/kernel") = fnv1a32 = 0x640763b5
  ///   i = 0: fmix32(0) = 0, u = fmix32(0x640763b5) = 0xe783b6bc, u >> 8 = 15172534,
  ///          f = 15172534 * 2^-23 - 1 = 0.808707; scale float32(sqrt(6 / 147)) = 0.20203051;
  ///          value = 0.16338348 (bits 1042763264)
  ///   i = 1: fmix32(1) = 0x514e28b7, u = 0xc6011f9f, u >> 8 = 12976415, f = 0.5469092,
  ///          value = 0.11049235 (bits 1038240208)
  ///   key("0:conv1_bn/gamma") = 0xc40a610b, i = 0: u = 0xb1ee39ff, f = 0.39008248,
  ///          value = 1 + f * 0.25 = 1.0975206 (bits 1066171278)
  ///   key("0:conv1_bn/moving_variance") = 0x7ae2a80e, i = 2: fmix32(2) = 0x30f4c306,
  ///          u = 0xc1371d79, f = 0.5094944, value = 1 + f * 0.5 = 1.2547472 (bits 1067490190)
  ///   key("0:block1_conv1/kernel") = 0x6f9b780b, i = 0: u = 0xe52ca4d3, f = 0.7904248,
  ///          scale float32(sqrt(6 / 27)) = 0.47140452, value = 0.37260982 (bits 1052690103)
  func testSyntheticWeightsKnownValues() {
    XCTAssertEqual(SyntheticWeights.fnv1a32("0:conv1_conv/kernel"), 0x6407_63b5)
    XCTAssertEqual(SyntheticWeights.fmix32(1), 0x514e_28b7)
    let resnet = CachedWeights.resnet50
    let kernel = resnet.layers["conv1_conv"]![.kernel]!
    XCTAssertEqual(kernel.shape, [7, 7, 3, 64])
    XCTAssertEqual(kernel.values[0].bitPattern, 1_042_763_264)
    XCTAssertEqual(kernel.values[1].bitPattern, 1_038_240_208)
    XCTAssertEqual(resnet.layers["conv1_bn"]![.gamma]!.values[0].bitPattern, 1_066_171_278)
    XCTAssertEqual(resnet.layers["conv1_bn"]![.movingVariance]!.values[2].bitPattern, 1_067_490_190)
    let vgg = CachedWeights.vgg16
    XCTAssertEqual(vgg.layers["block1_conv1"]![.kernel]!.values[0].bitPattern, 1_052_690_103)
    XCTAssertEqual(vgg.layers.count, 13)
    // A different seed gives different arrays.
    XCTAssertNotEqual(
      SyntheticWeights.make(.vgg16, seed: 1).layers["block1_conv1"]![.kernel]!.values[0], 0.37260982)
  }

  func testBindingIsStrict() {
    var weights = CachedWeights.vgg16
    weights.layers["block3_conv2"]![.kernel] = WeightArray(
      shape: [3, 3, 128, 256], values: .init(repeating: 0, count: 3 * 3 * 128 * 256))
    XCTAssertThrowsError(try Backbone(kind: .vgg16, weights: weights)) { error in
      let message = String(describing: error)
      XCTAssertTrue(
        message.contains("block3_conv2") && message.contains("[3, 3, 256, 256]")
          && message.contains("[3, 3, 128, 256]"), message)
    }
    weights.layers["block3_conv2"] = nil
    XCTAssertThrowsError(try Backbone(kind: .vgg16, weights: weights)) { error in
      let message = String(describing: error)
      XCTAssertTrue(message.contains("`block3_conv2`") && message.contains("kernel"), message)
    }
    // VGG weights are not ResNet weights.
    XCTAssertThrowsError(try Backbone(kind: .resnet50, weights: CachedWeights.vgg16))
  }
}
