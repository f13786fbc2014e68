// finetune's augmented training inputs against a naive reference written from Keras'
// DirectoryIterator steps: load_img -> the transform drawn from the documented stream ->
// apply_transform (the Augmentation library's pixel-by-pixel `applyReference`) -> 'caffe'
// preprocess_input -> the frozen prefix. Random ResNet50 weights, 64 x 64 fixture images.

import Augmentation
import Backbones
import Extraction
import Finetuning
import Foundation
import Heads
import ImageIO
import Support
import ToolTesting
import XCTest

@testable import FinetuneJob

final class AugmentedInputsTests: XCTestCase {
  let loading = LoadOptions(height: 64, width: 64)
  let root = fixturesDirectory.appendingPathComponent("images").path
  let paths = [
    "astronaut_baseline_q90_256x256.jpg", "missing.jpg", "chelsea_progressive_300x200.jpg", "coins_gray_192x152.png",
    "flower_rgb_240x160.png", "china_wide_320x100.jpg",
  ]

  /// (H, W, 3) RGB floats of `path` as Keras' img_to_array(load_img(...)) holds them.
  private func rgb(_ path: String) throws -> [Float] {
    try loadImage(at: root + "/" + path, options: loading).image.pixels.map { Float($0) }
  }

  /// Keras' preprocess_input 'caffe' written out: x[..., ::-1] - [103.939, 116.779, 123.68].
  private func caffe(_ x: [Float]) -> [Float] {
    var y = x
    for p in stride(from: 0, to: x.count, by: 3) {
      y[p] = x[p + 2] - Float(103.939)
      y[p + 1] = x[p + 1] - Float(116.779)
      y[p + 2] = x[p] - Float(123.68)
    }
    return y
  }

  func testAugmentedTrainingInputsEqualTheNaiveReference() throws {
    let backbone = try Backbone(kind: .resnet50, weights: SyntheticWeights.make(.resnet50, seed: 0))
    // Every transform at once, and 'constant' fill, where applying the transform after the
    // 'caffe' preprocessing (the wrong order) would give other pixels.
    let settings = AugmentationSettings(
      rotationRange: 30, widthShiftRange: .uniform(0.1), heightShiftRange: .pixels(6), shearRange: 10,
      zoomRange: (0.8, 1.2), horizontalFlip: true, verticalFlip: true, fillMode: .constant, cval: 30)
    let augmentation = SeededAugmentation(settings: settings, seed: 7)
    let epoch = 3
    let (h, w) = (loading.height, loading.width)
    let perImage = h * w * 3
    // Kept in memory (plenty of room), then decoded for every batch (room for the one
    // validation block input, 4 x 4 x 1024 floats, and not for the four training images).
    // A head on an early tap beside the block's: its features come from the same prefix pass.
    let early = "conv2_block3_out"
    let row = try FeatureRow(.resnet50, taps: [early, "conv5_block3_out"], widths: [256, 2048])
    for maxBytes in [1 << 30, 70_000] {
      let source = try AugmentedBlockInputs(
        backbone: backbone, augmentation: augmentation, root: root, paths: paths, trainRows: [0, 1, 2, 3, 4],
        valRows: [5], loading: loading, batchSize: 2, threads: 2, maxBytes: maxBytes, cacheDirectory: nil,
        row: row, quiet: true)
      XCTAssertEqual(source.keptInMemory, maxBytes > 70_000)
      XCTAssertEqual(source.failed.map(\.path), ["missing.jpg"])
      XCTAssertEqual(source.rows, [0, 2, 3, 4, 5])
      XCTAssertEqual(source.trainCount, 4)

      let positions = [3, 0, 2]
      let input = try source.trainingInput(positions, epoch: epoch)
      let produced = input.block
      var reference: [Float] = []  // (3, 64, 64, 3) BGR
      var wrongOrder: [Float] = []
      var unaugmented: [Float] = []
      for position in positions {
        let row = source.rows[position]
        // The documented stream: SplitMix64(seed, stream: epoch << 32 | dataset row).
        var generator = SplitMix64(seed: 7, stream: UInt64(epoch) << 32 | UInt64(row))
        let transform = randomTransform(settings, height: h, width: w, using: &generator)
        let image = try rgb(paths[row])
        reference += caffe(
          transform.applyReference(to: image, height: h, width: w, channels: 3, fillMode: .constant, cval: 30))
        wrongOrder += transform.applyReference(
          to: caffe(image), height: h, width: w, channels: 3, fillMode: .constant, cval: 30)
        unaugmented += caffe(image)
      }
      let expected = try reference.withUnsafeBufferPointer {
        try LastBlock.input(backbone, images: $0, count: positions.count, height: h, width: w).block
      }
      let diff = zip(produced, expected).map { abs($0 - $1) }.max() ?? .infinity
      print("augmented block input vs naive reference (maxBytes \(maxBytes)): max |diff| = \(diff)")
      XCTAssertEqual(produced.count, expected.count)
      XCTAssertLessThanOrEqual(diff, 1e-5)
      // The early tap's features are extract's for the same augmented images (not the plain ones).
      let extracted = try reference.withUnsafeBufferPointer {
        try backbone.features($0, count: positions.count, height: h, width: w, taps: [early])
      }
      let plainFeatures = try unaugmented.withUnsafeBufferPointer {
        try backbone.features($0, count: positions.count, height: h, width: w, taps: [early])
      }
      let fixedDiff = zip(input.fixed, extracted).map { abs($0 - $1) }.max() ?? .infinity
      let fromPlain = zip(input.fixed, plainFeatures).map { abs($0 - $1) }.max() ?? 0
      print("augmented \(early) features vs extract's: max |diff| = \(fixedDiff) (vs unaugmented \(fromPlain))")
      XCTAssertEqual(input.fixed.count, positions.count * 256)
      XCTAssertLessThanOrEqual(fixedDiff, 1e-6)
      XCTAssertGreaterThan(fromPlain, 1e-3)

      // The pixels themselves are the reference's to the bit, and the test can tell them apart
      // from unaugmented pixels and from the wrong order.
      let images = try positions.flatMap { try rgb(paths[source.rows[$0]]) }
      let pixels = images.withUnsafeBufferPointer {
        augmentedCaffeBatch(
          rgb: $0, rows: positions.map { source.rows[$0] }, epoch: epoch, augmentation: augmentation, height: h,
          width: w, threads: 3)
      }
      XCTAssertEqual(pixels.count, positions.count * perImage)
      XCTAssertEqual(pixels, reference, "augmented caffe batch vs reference")
      let moved = zip(pixels, unaugmented).map { abs($0 - $1) }.max() ?? 0
      let misordered = zip(pixels, wrongOrder).map { abs($0 - $1) }.max() ?? 0
      print("augmented vs unaugmented pixels: max |diff| = \(moved); vs caffe-then-augment: \(misordered)")
      XCTAssertGreaterThan(moved, 10)
      XCTAssertGreaterThan(misordered, 10)

      // Validation images are never augmented: their block inputs are the unaugmented ones.
      let validation = try source.validationInput([4])
      let plain = try caffe(rgb(paths[5])).withUnsafeBufferPointer {
        try LastBlock.input(backbone, images: $0, count: 1, height: h, width: w, row: row)
      }
      XCTAssertEqual(validation.block, plain.block)
      XCTAssertEqual(validation.fixed, plain.fixed)
      source.removeCache()
    }
  }

  /// With settings that change nothing, the augmented path's pixels are BatchDecoder's 'caffe'
  /// pixels to the bit: the float 'caffe' step is ImageIO's.
  func testIdentityAugmentationGivesTheDecodersCaffePixels() throws {
    let usable = [paths[0], paths[2], paths[3]]
    let caffe = BatchDecoder(root: root, options: loading, threads: 2).decode(paths: usable[...], batch: 0)
    let rgb = BatchDecoder(root: root, options: loading, threads: 2, pixels: .rgb).decode(paths: usable[...], batch: 0)
    let pixels = rgb.input.withUnsafeBufferPointer {
      augmentedCaffeBatch(
        rgb: $0, rows: [0, 2, 3], epoch: 0, augmentation: SeededAugmentation(settings: AugmentationSettings(), seed: 1),
        height: loading.height, width: loading.width, threads: 2)
    }
    XCTAssertEqual(caffe.usable, 3)
    XCTAssertEqual(pixels, caffe.input)
  }
}
