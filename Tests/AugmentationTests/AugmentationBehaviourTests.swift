// What the Keras fixture cannot show: draws stay in their ranges and repeat per seed, the
// identity is exact, the fast kernel equals the naive reference over a sweep of shapes, modes
// and random transforms, settings are validated, and the speed on a 224x224x3 image.
// Images are (H, W, C) float32.
import Augmentation
import Foundation
import Support
import XCTest

final class AugmentationBehaviourTests: XCTestCase {
  static func image(_ h: Int, _ w: Int, _ c: Int, seed: UInt64) -> [Float] {
    var g = SplitMix64(seed: seed)
    return (0..<(h * w * c)).map { _ in Float(g.nextUnit() * 255) }
  }

  static let full = AugmentationSettings(
    rotationRange: 30, widthShiftRange: .uniform(0.2), heightShiftRange: .pixels(7), shearRange: 12,
    zoomRange: AugmentationSettings.zoom(0.25), horizontalFlip: true, verticalFlip: true)

  func testDrawsStayInTheirRangesAndCoverThem() {
    var g = SplitMix64(seed: 42, stream: 3)
    let (h, w) = (40, 60)
    var flipsH = 0
    var flipsV = 0
    var extremes = (theta: 0.0, ty: 0.0, tx: 0.0, shear: 0.0, zoomLow: 2.0, zoomHigh: 0.0)
    let n = 4000
    for _ in 0..<n {
      let t = randomTransform(Self.full, height: h, width: w, using: &g)
      XCTAssert(t.theta >= -30 && t.theta < 30)
      XCTAssert(t.shear >= -12 && t.shear < 12)
      XCTAssert(t.ty >= -0.2 * Double(w) && t.ty < 0.2 * Double(w), "ty \(t.ty)")
      // The int form: whole pixels, |tx| <= 6 (np.random.choice(7) times a sign).
      XCTAssert(t.tx == t.tx.rounded() && abs(t.tx) <= 6, "tx \(t.tx)")
      for z in [t.zx, t.zy] { XCTAssert(z >= 0.75 && z < 1.25) }
      if t.flipHorizontal { flipsH += 1 }
      if t.flipVertical { flipsV += 1 }
      extremes.theta = max(extremes.theta, abs(t.theta))
      extremes.ty = max(extremes.ty, abs(t.ty))
      extremes.tx = max(extremes.tx, abs(t.tx))
      extremes.shear = max(extremes.shear, abs(t.shear))
      extremes.zoomLow = min(extremes.zoomLow, t.zx, t.zy)
      extremes.zoomHigh = max(extremes.zoomHigh, t.zx, t.zy)
    }
    print("augmentation draws (\(n)): \(extremes), horizontal flips \(flipsH), vertical flips \(flipsV)")
    XCTAssert(extremes.theta > 29.5 && extremes.shear > 11.8 && extremes.ty > 11.8 && extremes.tx == 6)
    XCTAssert(extremes.zoomLow < 0.76 && extremes.zoomHigh > 1.24)
    XCTAssert(abs(flipsH - n / 2) < 200 && abs(flipsV - n / 2) < 200)
  }

  func testSameSeedSameTransformsAndSettingsOffDrawNothing() {
    var a = SplitMix64(seed: 7, stream: 1)
    var b = SplitMix64(seed: 7, stream: 1)
    var c = SplitMix64(seed: 8, stream: 1)
    let first = (0..<50).map { _ in randomTransform(Self.full, height: 224, width: 224, using: &a) }
    let again = (0..<50).map { _ in randomTransform(Self.full, height: 224, width: 224, using: &b) }
    let other = (0..<50).map { _ in randomTransform(Self.full, height: 224, width: 224, using: &c) }
    XCTAssertEqual(first, again)
    XCTAssertNotEqual(first, other)
    // Nothing asked: the identity every time (the flip coins are drawn but not used).
    var g = SplitMix64(seed: 1)
    for _ in 0..<20 {
      XCTAssertEqual(randomTransform(AugmentationSettings(), height: 9, width: 9, using: &g), .identity)
    }
    XCTAssert(AugmentationSettings().isIdentity)
    XCTAssertFalse(AugmentationSettings(horizontalFlip: true).isIdentity)
    XCTAssert(AugmentationSettings(widthShiftRange: .uniform(0), heightShiftRange: .pixels(1)).isIdentity)
    XCTAssertFalse(AugmentationSettings(heightShiftRange: .pixels(2)).isIdentity)
    XCTAssertFalse(Self.full.isIdentity)
  }

  func testAugmentIsDrawThenApply() {
    var settings = Self.full
    settings.fillMode = .constant
    settings.cval = 9
    let x = Self.image(12, 15, 3, seed: 4)
    var out = [Float](repeating: 0, count: x.count)
    var g = SplitMix64(seed: 5, stream: 2)
    var h = g
    for _ in 0..<5 {
      let drawn = x.withUnsafeBufferPointer { input in
        out.withUnsafeMutableBufferPointer { output in
          settings.augment(input, into: output, height: 12, width: 15, channels: 3, using: &g)
        }
      }
      let expected = randomTransform(settings, height: 12, width: 15, using: &h)
      XCTAssertEqual(drawn, expected)
      XCTAssertEqual(out, expected.apply(to: x, height: 12, width: 15, channels: 3, fillMode: .constant, cval: 9))
    }
  }

  func testIdentityReturnsTheInputExactly() {
    let x = Self.image(13, 17, 3, seed: 5)
    for mode in FillMode.allCases {
      XCTAssertEqual(AugmentationTransform.identity.apply(to: x, height: 13, width: 17, channels: 3, fillMode: mode), x)
      XCTAssertEqual(
        AugmentationTransform.identity.applyReference(to: x, height: 13, width: 17, channels: 3, fillMode: mode), x)
    }
    XCTAssertNil(AugmentationTransform.identity.samplingMap(height: 13, width: 17))
    // Two flips of each kind give the input back.
    let flipped = AugmentationTransform(flipHorizontal: true, flipVertical: true)
    let once = flipped.apply(to: x, height: 13, width: 17, channels: 3)
    XCTAssertNotEqual(once, x)
    XCTAssertEqual(flipped.apply(to: once, height: 13, width: 17, channels: 3), x)
  }

  func testFastKernelEqualsReferenceOverASweep() {
    var g = SplitMix64(seed: 11)
    var cases = 0
    for (h, w, ch) in [(1, 1, 3), (1, 7, 2), (5, 1, 1), (2, 2, 3), (9, 14, 3), (16, 11, 4), (23, 23, 1)] {
      let x = Self.image(h, w, ch, seed: UInt64(h * 100 + w))
      for mode in FillMode.allCases {
        for _ in 0..<6 {
          let t = randomTransform(Self.full, height: h, width: w, using: &g)
          let cval = Double(g.nextUnit() * 10 - 5)
          let fast = t.apply(to: x, height: h, width: w, channels: ch, fillMode: mode, cval: cval)
          let reference = t.applyReference(to: x, height: h, width: w, channels: ch, fillMode: mode, cval: cval)
          XCTAssertEqual(fast, reference, "\(h)x\(w)x\(ch) \(mode) \(t)")
          cases += 1
        }
      }
    }
    print("augmentation fast vs reference: \(cases) transforms bit-identical")
  }

  func testAnIntegerShiftMovesPixelsLikeKeras() {
    // tx (Keras' height shift) moves columns: output column c reads input column c + tx.
    let (h, w) = (4, 6)
    let x = (0..<(h * w)).map { Float($0) }
    let y = AugmentationTransform(tx: 2).apply(to: x, height: h, width: w, channels: 1, fillMode: .constant, cval: -1)
    for r in 0..<h {
      for c in 0..<w { XCTAssertEqual(y[r * w + c], c + 2 < w ? x[r * w + c + 2] : -1) }
    }
  }

  func testValidationNamesTheSetting() {
    XCTAssertNoThrow(try Self.full.validate())
    let bad: [(AugmentationSettings, String)] = [
      (AugmentationSettings(rotationRange: -1), "rotation"),
      (AugmentationSettings(widthShiftRange: .uniform(-0.1)), "width shift"),
      (AugmentationSettings(heightShiftRange: .pixels(-3)), "height shift"),
      (AugmentationSettings(zoomRange: AugmentationSettings.zoom(1.5)), "zoom"),
      (AugmentationSettings(zoomRange: (1.2, 0.8)), "zoom"),
      (AugmentationSettings(shearRange: .nan), "shear"),
    ]
    for (settings, word) in bad {
      XCTAssertThrowsError(try settings.validate()) { error in
        XCTAssert("\(error)".contains(word), "\(error)")
      }
    }
    XCTAssertEqual(ShiftRange(argument: "8"), .pixels(8))
    XCTAssertEqual(ShiftRange(argument: "8.0"), .uniform(8))
    XCTAssertEqual(ShiftRange(argument: "0.1"), .uniform(0.1))
    XCTAssertEqual(ShiftRange(argument: "0"), ShiftRange.none)
    XCTAssertNil(ShiftRange(argument: "ten"))
  }

  func testSpeedOn224Image() {
    let (h, w, ch) = (224, 224, 3)
    let x = Self.image(h, w, ch, seed: 3)
    var out = [Float](repeating: 0, count: x.count)
    var g = SplitMix64(seed: 9)
    let transforms = (0..<20).map { _ in randomTransform(Self.full, height: h, width: w, using: &g) }
    let start = Date()
    x.withUnsafeBufferPointer { input in
      out.withUnsafeMutableBufferPointer { output in
        for t in transforms { t.apply(input, into: output, height: h, width: w, channels: ch) }
      }
    }
    let ms = Date().timeIntervalSince(start) * 1000 / Double(transforms.count)
    print("augmentation speed: \(String(format: "%.3f", ms)) ms per 224x224x3 image (this build configuration)")
    XCTAssert(out.contains { $0 != 0 })
  }
}
