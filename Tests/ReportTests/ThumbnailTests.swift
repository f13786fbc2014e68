// Thumbnails: decoded with ImageIO, shrunk, encoded by the CShims libjpeg encoder, embedded as
// data: URIs; checked by decoding the embedded bytes again. Missing and broken files become
// placeholders with their reason.

import Foundation
import ImageIO
import XCTest

@testable import Report

final class ThumbnailTests: XCTestCase {
  private func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures/images/\(name)").path
  }

  private func decode(_ bytes: [UInt8]) throws -> RGBImage {
    try bytes.withUnsafeBytes { try decodeImage($0).0 }
  }

  /// Mean absolute difference per channel value.
  private func meanDifference(_ a: RGBImage, _ b: RGBImage) -> Double {
    precondition(a.width == b.width && a.height == b.height)
    return zip(a.pixels, b.pixels).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(a.pixels.count)
  }

  func testEncodedJPEGDecodesToTheSameImage() throws {
    // A smooth gradient survives JPEG at quality 90 to within a few levels.
    let (w, h) = (37, 23)
    var pixels = [UInt8](repeating: 0, count: w * h * 3)
    for y in 0..<h {
      for x in 0..<w {
        pixels[(y * w + x) * 3] = UInt8(x * 255 / (w - 1))
        pixels[(y * w + x) * 3 + 1] = UInt8(y * 255 / (h - 1))
        pixels[(y * w + x) * 3 + 2] = 128
      }
    }
    let image = RGBImage(width: w, height: h, pixels: pixels)
    let bytes = try encodeJPEG(image, quality: 90)
    XCTAssertEqual(Array(bytes.prefix(3)), [0xFF, 0xD8, 0xFF])
    XCTAssertEqual(Array(bytes.suffix(2)), [0xFF, 0xD9])
    let back = try decode(bytes)
    XCTAssertEqual([back.width, back.height], [w, h])
    let difference = meanDifference(image, back)
    print("JPEG q90 round trip of a 37x23 gradient: mean |difference| \(difference)")
    XCTAssertLessThan(difference, 3)
  }

  func testThumbnailsKeepTheAspectRatioAndMatchAResizedOriginal() throws {
    for (name, side, expected) in [
      ("astronaut_baseline_q90_256x256.jpg", 64, [64, 64]), ("china_wide_320x100.jpg", 128, [128, 40]),
      ("flower_rgb_240x160.png", 96, [96, 64]), ("coffee_tiny_20x15.jpg", 128, [20, 15]),
      // EXIF orientation 6: stored 224x168, shown upright as 168x224.
      ("flower_exif_orient6_224x168.jpg", 128, [96, 128]),
    ] {
      guard case .jpeg(let bytes, let width, let height) = makeThumbnail(path: fixture(name), maxSide: side) else {
        XCTFail("\(name): no thumbnail")
        continue
      }
      XCTAssertEqual([width, height], expected, name)
      // What the page embeds is exactly these bytes, and they decode to that size.
      let html = worstCaseHTML(
        WorstCase(
          path: name, truth: "a", predicted: "b", loss: 1, lossName: "loss",
          thumbnail: .jpeg(bytes, width: width, height: height)))
      let encoded = html.components(separatedBy: "src=\"data:image/jpeg;base64,")[1].prefix { $0 != "\"" }
      let embedded = try XCTUnwrap(Data(base64Encoded: String(encoded)), name)
      XCTAssertEqual([UInt8](embedded), bytes, name)
      let decoded = try decode(bytes)
      XCTAssertEqual([decoded.width, decoded.height], expected, name)
      // Close to the original shrunk the same way (JPEG loss only).
      let data = try Data(contentsOf: URL(fileURLWithPath: fixture(name)))
      let original = try data.withUnsafeBytes { try decodeImage($0, exif: .apply).0 }
      let reference = resize(original, height: expected[1], width: expected[0], interpolation: .bilinear)
      let difference = meanDifference(reference, decoded)
      print("\(name): thumbnail \(width)x\(height), \(bytes.count) bytes, mean |difference| \(difference)")
      XCTAssertLessThan(difference, 7, name)
    }
  }

  func testMissingOrBrokenImagesBecomePlaceholdersWithTheReason() throws {
    guard case .unavailable(let missing) = makeThumbnail(path: "/nonexistent/folder/x.jpg") else {
      return XCTFail("a missing file gave a thumbnail")
    }
    XCTAssertTrue(missing.contains("no such file"), missing)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thumb-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let text = folder.appendingPathComponent("notes.jpg")
    try Data("not an image".utf8).write(to: text)
    guard case .unavailable(let notImage) = makeThumbnail(path: text.path) else { return XCTFail("text decoded") }
    XCTAssertTrue(notImage.contains("unrecognised image format"), notImage)
    let cut = folder.appendingPathComponent("cut.jpg")
    let whole = try Data(contentsOf: URL(fileURLWithPath: fixture("astronaut_baseline_q90_256x256.jpg")))
    try whole.prefix(whole.count / 2).write(to: cut)
    guard case .unavailable(let truncated) = makeThumbnail(path: cut.path) else { return XCTFail("half a JPEG") }
    XCTAssertTrue(truncated.contains("truncated"), truncated)
    let html = worstCaseHTML(
      WorstCase(
        path: "x.jpg", truth: "a", predicted: "b", loss: 1, lossName: "loss", thumbnail: .unavailable(truncated)))
    XCTAssertTrue(html.contains("class=\"thumb placeholder\""))
    XCTAssertTrue(html.contains(escape(truncated)))
    XCTAssertFalse(html.contains("<img"))
  }
}
