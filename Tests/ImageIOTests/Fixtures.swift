// Locating and reading the Pillow golden files made by
// Tests/Fixtures/pillow/make_pillow_fixtures.py (see that script for what each one is).
import Foundation
import XCTest

@testable import ImageIO

/// Tests/Fixtures/pillow, found from this source file's path so no bundle resources are needed.
let fixtureDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("Fixtures/pillow")

struct Manifest: Decodable {
  struct Decode: Decodable {
    var file: String
    var expected: String
    var width: Int
    var height: Int
    var note: String
  }
  struct Resize: Decodable {
    var source: String
    var srcWidth: Int
    var srcHeight: Int
    var height: Int
    var width: Int
    var interpolation: String
    var expected: String
  }
  struct Exif: Decodable {
    var file: String
    var orientation: Int
    var ignored: String
    var applied: String
    var appliedWidth: Int
    var appliedHeight: Int
  }
  struct Bad: Decodable {
    var file: String
    var reason: String
    var pillow: String
  }
  /// Resize cases stored as the CRC-32 of Pillow's output bytes.
  struct Sweep: Decodable {
    var source: String
    var srcWidth: Int
    var srcHeight: Int
    var height: Int
    var width: Int
    var interpolation: String
    var crc32: UInt32
  }
  /// keras.utils.load_img + img_to_array on a whole file, as the CRC-32 of the uint8 array.
  struct Keras: Decodable {
    var file: String
    var height: Int
    var width: Int
    var interpolation: String
    var via: String
    var crc32: UInt32
  }
  var pillow: String
  var decode: [Decode]
  var resize: [Resize]
  var resizeSweep: [Sweep]
  var keras: [Keras]
  var exif: [Exif]
  var bad: [Bad]
  var perf: String
}

func loadManifest() throws -> Manifest {
  let data = try Data(contentsOf: fixtureDirectory.appendingPathComponent("manifest.json"))
  return try JSONDecoder().decode(Manifest.self, from: data)
}

func fixturePath(_ relative: String) -> String {
  fixtureDirectory.appendingPathComponent(relative).path
}

func fixtureBytes(_ relative: String) throws -> [UInt8] {
  [UInt8](try Data(contentsOf: fixtureDirectory.appendingPathComponent(relative)))
}

/// A raw (H, W, 3) uint8 file from rgb/.
func expectedRGB(_ name: String, width: Int, height: Int) throws -> RGBImage {
  let bytes = try fixtureBytes("rgb/" + name)
  XCTAssertEqual(bytes.count, width * height * 3, name)
  return RGBImage(width: width, height: height, pixels: bytes)
}

/// Decodes fixture bytes through the public entry point.
func decodeFixture(_ relative: String, exif: ExifMode = .ignore) throws
  -> (RGBImage, exifOrientation: Int)
{
  let bytes = try fixtureBytes(relative)
  return try bytes.withUnsafeBytes { try decodeImage($0, exif: exif) }
}

/// Largest absolute difference between two equally sized images (Int.max if sizes differ).
func maxAbsDiff(_ a: RGBImage, _ b: RGBImage) -> Int {
  guard a.width == b.width, a.height == b.height else { return Int.max }
  var worst = 0
  for i in 0..<a.pixels.count {
    worst = max(worst, abs(Int(a.pixels[i]) - Int(b.pixels[i])))
  }
  return worst
}

/// The BMP and PNM fixtures, Tests/Fixtures/pillow/formats, made by make_format_fixtures.py;
/// their paths are relative to that folder.
struct FormatManifest: Decodable {
  /// An ASCII PNM too big to commit: `prefix`, `spaces` spaces, `suffix`; whether Pillow reads it.
  struct Block: Decodable {
    var prefix: String
    var spaces: Int
    var suffix: String
    var accepted: Bool
  }
  var pillow: String
  var decode: [Manifest.Decode]
  var bad: [Manifest.Bad]
  var keras: [Manifest.Keras]
  var blocks: [Block]
}

func loadFormatManifest() throws -> FormatManifest {
  try JSONDecoder().decode(FormatManifest.self, from: Data(fixtureBytes("formats/manifest.json")))
}
