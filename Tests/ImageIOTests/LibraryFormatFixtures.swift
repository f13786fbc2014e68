// Locating and reading the TIFF, WebP and GIF golden files made by
// Tests/Fixtures/tiff_webp_gif/make_tiff_webp_gif_fixtures.py (see that script for what each
// one is). The layout is that of Tests/Fixtures/pillow: src/, rgb/, bad/ and manifest.json.
import Foundation
import XCTest

@testable import ImageIO

let libraryFormatDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("Fixtures/tiff_webp_gif")

struct LibraryFormatManifest: Decodable {
  struct Decode: Decodable {
    var file: String
    var expected: String
    var width: Int
    var height: Int
    var note: String
    /// The largest |difference| from Pillow allowed; 0 unless the note says why.
    var tolerance: Int
    /// What Pillow's getexif() still reports once the image is loaded.
    var orientation: Int
    /// exif_transpose's output, when `orientation` is not 1.
    var applied: String?
    var appliedWidth: Int?
    var appliedHeight: Int?
  }
  var pillow: String
  var libtiff: String
  var libwebp: String
  var decode: [Decode]
  var bad: [Manifest.Bad]
  var keras: [Manifest.Keras]
  /// Files Pillow reads and Headstart refuses (Docs/keras-parity.md says why).
  struct Refused: Decodable {
    var file: String
    var reason: String
    var note: String
  }
  var refused: [Refused]

  static func load() throws -> LibraryFormatManifest {
    let data = try Data(contentsOf: libraryFormatDirectory.appendingPathComponent("manifest.json"))
    return try JSONDecoder().decode(LibraryFormatManifest.self, from: data)
  }
}

func libraryFormatBytes(_ relative: String) throws -> [UInt8] {
  [UInt8](try Data(contentsOf: libraryFormatDirectory.appendingPathComponent(relative)))
}

/// Decodes one fixture through the public entry point.
func decodeLibraryFormat(_ relative: String, maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
  let bytes = try libraryFormatBytes(relative)
  return try bytes.withUnsafeBytes { try decodeImage($0, maxPixels: maxPixels).0 }
}

/// Pillow's pixels for a decode entry.
func libraryFormatExpected(_ entry: LibraryFormatManifest.Decode) throws -> RGBImage {
  let bytes = try libraryFormatBytes("rgb/" + entry.expected)
  XCTAssertEqual(bytes.count, entry.width * entry.height * 3, entry.expected)
  return RGBImage(width: entry.width, height: entry.height, pixels: bytes)
}
