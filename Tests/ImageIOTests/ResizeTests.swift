// Resizing against Pillow's Image.resize((w, h), NEAREST / BILINEAR) on the same RGB input.
import Support
import XCTest

@testable import ImageIO

final class ResizeTests: XCTestCase {
  func testResizeMatchesPillow() throws {
    let manifest = try loadManifest()
    var worst = [String: Int]()
    for entry in manifest.resize {
      let source = try expectedRGB(entry.source, width: entry.srcWidth, height: entry.srcHeight)
      let expected = try expectedRGB(entry.expected, width: entry.width, height: entry.height)
      let interpolation = try XCTUnwrap(Interpolation(rawValue: entry.interpolation))
      let out = resize(
        source, height: entry.height, width: entry.width,
        interpolation: interpolation)
      let diff = maxAbsDiff(out, expected)
      XCTAssertEqual(diff, 0, "\(entry.expected)")
      worst[entry.interpolation] = max(worst[entry.interpolation] ?? 0, diff)
    }
    print("resize: \(manifest.resize.count) cases, max |diff| vs Pillow by method: \(worst)")
  }

  /// Many more target sizes, checked against CRC-32s of Pillow's output.
  func testResizeSweepMatchesPillowChecksums() throws {
    let manifest = try loadManifest()
    var sources: [String: RGBImage] = [:]
    var mismatches: [String] = []
    for entry in manifest.resizeSweep {
      let source =
        try sources[entry.source]
        ?? expectedRGB(entry.source, width: entry.srcWidth, height: entry.srcHeight)
      sources[entry.source] = source
      let interpolation = try XCTUnwrap(Interpolation(rawValue: entry.interpolation))
      let out = resize(source, height: entry.height, width: entry.width, interpolation: interpolation)
      if out.pixels.withUnsafeBytes({ CRC32.update(0, $0) }) != entry.crc32 {
        mismatches.append("\(entry.source) -> \(entry.height)x\(entry.width) \(entry.interpolation)")
      }
    }
    print("resize sweep: \(manifest.resizeSweep.count) cases, \(mismatches.count) differ from Pillow")
    XCTAssertEqual(mismatches, [])
  }

  func testSameSizeIsUntouched() {
    let image = RGBImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6])
    for interpolation in Interpolation.allCases {
      XCTAssertEqual(resize(image, height: 1, width: 2, interpolation: interpolation), image)
    }
  }

  /// Bilinear weights for each output sum to 1.0 in fixed point (up to rounding), and
  /// shrinking widens the filter support with the scale, as Pillow's antialiasing does.
  func testBilinearCoefficients() {
    for (inSize, outSize) in [(10, 3), (3, 10), (224, 224), (500, 224), (7, 1)] {
      let c = bilinearCoefficients(inSize: inSize, outSize: outSize)
      for i in 0..<outSize {
        let sum = (0..<c.count[i]).reduce(0) { $0 + Int(c.weights[i * c.taps + $1]) }
        XCTAssertLessThanOrEqual(abs(sum - (1 << 22)), c.count[i], "\(inSize)->\(outSize) #\(i)")
      }
    }
    XCTAssertEqual(bilinearCoefficients(inSize: 500, outSize: 100).count[50], 10)  // centre +- 5
  }

  /// Pillow's nearest walk: 3 -> 2 reads source pixels 0 and 2 (centres 0.75 and 2.25).
  func testNearestIndices() {
    XCTAssertEqual(nearestIndices(source: 3, target: 2), [0, 2])
    XCTAssertEqual(nearestIndices(source: 2, target: 4), [0, 0, 1, 1])
    XCTAssertEqual(nearestIndices(source: 10, target: 3), [1, 5, 8])
    // The accumulated walk matters: Pillow stretches [a, b] to 7 pixels as a a a a b b b,
    // where int((x + 0.5) * 2 / 7) would give a a a b b b b (0.5 + 3 * 2/7 lands just
    // below 1 when accumulated).
    XCTAssertEqual(nearestIndices(source: 2, target: 7), [0, 0, 0, 0, 1, 1, 1])
  }
}

/// The fast kernels against the naive references over many shapes, shrinking and enlarging
/// each axis, with both pass orders.
final class ResizeReferenceTests: XCTestCase {
  func testFastKernelsMatchNaiveReferences() {
    var generator = SplitMix64(seed: 7)
    var cases = 0
    for (w0, h0) in [(1, 1), (2, 3), (17, 11), (40, 9), (9, 40), (64, 48)] {
      let pixels = (0..<(w0 * h0 * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
      let image = RGBImage(width: w0, height: h0, pixels: pixels)
      for (w, h) in [(1, 1), (3, 2), (5, 31), (31, 5), (w0, 7), (13, h0), (50, 50), (100, 3)] {
        let nearest = resize(image, height: h, width: w, interpolation: .nearest)
        let bilinear = resize(image, height: h, width: w, interpolation: .bilinear)
        let nearestRef = w == w0 && h == h0 ? image : resizeNearestReference(image, height: h, width: w)
        let bilinearRef = w == w0 && h == h0 ? image : resizeBilinearReference(image, height: h, width: w)
        XCTAssertEqual(maxAbsDiff(nearest, nearestRef), 0, "nearest \(w0)x\(h0) -> \(w)x\(h)")
        XCTAssertEqual(maxAbsDiff(bilinear, bilinearRef), 0, "bilinear \(w0)x\(h0) -> \(w)x\(h)")
        cases += 1
      }
    }
    print("resize: \(cases) shapes, fast == naive reference")
  }
}
