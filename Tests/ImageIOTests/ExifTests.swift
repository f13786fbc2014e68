// EXIF orientation: read from JPEG APP1 (both TIFF byte orders) and PNG eXIf, ignored by
// default like Keras, applied like PIL.ImageOps.exif_transpose on request.
import XCTest

@testable import ImageIO

final class ExifTests: XCTestCase {
  func testOrientationReadIgnoredAndApplied() throws {
    let manifest = try loadManifest()
    XCTAssertTrue(manifest.exif.contains { $0.orientation == 6 && $0.file.hasSuffix(".jpg") })
    for entry in manifest.exif {
      let (plain, orientation) = try decodeFixture(entry.file)
      XCTAssertEqual(orientation, entry.orientation, entry.file)
      let ignored = try expectedRGB(entry.ignored, width: plain.width, height: plain.height)
      XCTAssertEqual(maxAbsDiff(plain, ignored), 0, entry.file)

      let (turned, again) = try decodeFixture(entry.file, exif: .apply)
      XCTAssertEqual(again, entry.orientation)
      let applied = try expectedRGB(
        entry.applied, width: entry.appliedWidth,
        height: entry.appliedHeight)
      XCTAssertEqual(maxAbsDiff(turned, applied), 0, "\(entry.file) applied")
    }
  }

  /// A hand-made 2x3 image through all eight orientations, against the definitions.
  func testAllOrientationsOnTinyImage() {
    // Pixel value = 10 * row + column, in all three channels.
    let w = 3
    let h = 2
    let image = RGBImage(
      width: w, height: h,
      pixels: (0..<(w * h)).flatMap { i in [UInt8](repeating: UInt8(10 * (i / w) + i % w), count: 3) })
    func at(_ img: RGBImage, _ x: Int, _ y: Int) -> UInt8 { img.pixels[3 * (y * img.width + x)] }
    let rot6 = applyExifOrientation(image, orientation: 6)  // 90 degrees clockwise
    XCTAssertEqual([rot6.width, rot6.height], [2, 3])
    XCTAssertEqual(at(rot6, 0, 0), 10)  // bottom-left comes to the top-left
    XCTAssertEqual(at(rot6, 1, 0), 0)
    let rot8 = applyExifOrientation(image, orientation: 8)  // 90 degrees counter-clockwise
    XCTAssertEqual(at(rot8, 0, 0), 2)  // top-right comes to the top-left
    XCTAssertEqual(at(applyExifOrientation(image, orientation: 2), 0, 0), 2)
    XCTAssertEqual(at(applyExifOrientation(image, orientation: 3), 0, 0), 12)
    XCTAssertEqual(at(applyExifOrientation(image, orientation: 4), 0, 0), 10)
    XCTAssertEqual(at(applyExifOrientation(image, orientation: 5), 1, 0), 10)
    XCTAssertEqual(at(applyExifOrientation(image, orientation: 7), 0, 0), 12)
    for o in [0, 1, 9] { XCTAssertEqual(applyExifOrientation(image, orientation: o), image) }
  }

  func testExifBlockParsing() {
    let littleEndian: [UInt8] = [
      0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0,
      6, 0, 0, 0, 0, 0, 0, 0,
    ]
    let bigEndian: [UInt8] = [
      0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1,
      0, 8, 0, 0, 0, 0, 0, 0,
    ]
    XCTAssertEqual(littleEndian.withUnsafeBytes { exifOrientation($0) }, 6)
    XCTAssertEqual(bigEndian.withUnsafeBytes { exifOrientation($0) }, 8)
    XCTAssertNil(littleEndian.prefix(12).withUnsafeBytes { exifOrientation($0) })  // cut short
    XCTAssertNil([UInt8]("garbage!".utf8).withUnsafeBytes { exifOrientation($0) })
  }
}
