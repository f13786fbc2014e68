// Keras parity: every case of Tests/Fixtures/augmentation (Keras 3.15.1's legacy
// ImageDataGenerator.apply_transform with explicit parameters, scipy 1.17.1) reproduced by the
// fast kernel and by the naive reference. Images are (H, W, C) float32.
import Augmentation
import Foundation
import XCTest

struct AugmentationCase: Decodable {
  struct Parameters: Decodable {
    var theta, tx, ty, shear, zx, zy: Double
    var flip_horizontal, flip_vertical: Bool
  }
  var name: String
  var height, width, channels: Int
  var fill_mode: String
  var cval: Double
  var parameters: Parameters
  var input: String
  var input_offset: Int
  var output: String
  var output_offset: Int

  var transform: AugmentationTransform {
    let p = parameters
    return AugmentationTransform(
      theta: p.theta, tx: p.tx, ty: p.ty, shear: p.shear, zx: p.zx, zy: p.zy, flipHorizontal: p.flip_horizontal,
      flipVertical: p.flip_vertical)
  }
}

struct AugmentationManifest: Decodable {
  var keras: String
  var cases: [AugmentationCase]

  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/augmentation")

  static func load() throws -> AugmentationManifest {
    try JSONDecoder().decode(Self.self, from: Data(contentsOf: directory.appendingPathComponent("cases.json")))
  }

  /// A raw little-endian float32 file of the fixture, (H, W, C).
  static func floats(_ file: String) throws -> [Float] {
    let data = try Data(contentsOf: directory.appendingPathComponent(file))
    return data.withUnsafeBytes { raw in
      (0..<(data.count / 4)).map {
        Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
      }
    }
  }
}

final class KerasAugmentationParityTests: XCTestCase {
  func testEveryCaseMatchesKeras() throws {
    let manifest = try AugmentationManifest.load()
    XCTAssertGreaterThanOrEqual(manifest.cases.count, 12)
    var worst: Float = 0
    var totalDiffering = 0
    var totalValues = 0
    for c in manifest.cases {
      let n = c.height * c.width * c.channels
      let input = Array(try AugmentationManifest.floats(c.input).dropFirst(c.input_offset).prefix(n))
      let expected = Array(try AugmentationManifest.floats(c.output).dropFirst(c.output_offset).prefix(n))
      XCTAssertEqual(input.count, n, c.name)
      XCTAssertEqual(expected.count, input.count, c.name)
      let mode = try XCTUnwrap(FillMode(rawValue: c.fill_mode), c.name)
      let fast = c.transform.apply(
        to: input, height: c.height, width: c.width, channels: c.channels, fillMode: mode, cval: c.cval)
      let reference = c.transform.applyReference(
        to: input, height: c.height, width: c.width, channels: c.channels, fillMode: mode, cval: c.cval)
      let diff = zip(fast, expected).map { abs($0 - $1) }.max() ?? .infinity
      let differing = zip(fast, expected).filter { $0 != $1 }.count
      if !c.name.hasPrefix("random") || differing > 0 {
        print(
          "augmentation parity \(c.name) (\(c.height)x\(c.width)x\(c.channels), \(c.fill_mode)): max |diff| \(diff),"
            + " \(differing) of \(fast.count) values not bit-identical")
      }
      totalDiffering += differing
      totalValues += fast.count
      XCTAssertLessThanOrEqual(diff, 1e-5, c.name)
      XCTAssertEqual(fast, reference, "\(c.name): fast kernel and reference differ")
      // The output is not just the input (except for the identity case).
      if c.name != "identity" { XCTAssertNotEqual(fast, input, c.name) }
      worst = max(worst, diff)
    }
    print(
      "augmentation parity: worst max |diff| over \(manifest.cases.count) Keras cases \(worst);"
        + " \(totalDiffering) of \(totalValues) values not bit-identical")
  }
}
