// Files Pillow (and so Keras) refuses: each must fail with the right kind of reason.
import XCTest

@testable import ImageIO

final class BadFileTests: XCTestCase {
  func testBadFilesGiveReasons() throws {
    let manifest = try loadManifest()
    for entry in manifest.bad {
      XCTAssertThrowsError(try decodeFixture(entry.file), entry.file) { error in
        let text = "\(error)"
        print("\(entry.file): \(text)   [Pillow: \(entry.pillow)]")
        XCTAssertTrue(text.contains(entry.reason), "\(entry.file): '\(text)'")
        XCTAssertFalse(text.contains("\n"))
      }
    }
  }

  /// The 20000x20000 header is refused from its IHDR alone: quick, and says size and limit.
  func testPixelLimitBeforeDecoding() throws {
    let start = DispatchTime.now()
    XCTAssertThrowsError(try decodeFixture("bad/bomb.png")) { error in
      XCTAssertTrue("\(error)".contains("20000x20000"))
      XCTAssertTrue("\(error)".contains("178956970"))
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    XCTAssertLessThan(seconds, 0.5)
    // A JPEG against a lower limit: refused from its header.
    let bytes = try fixtureBytes("src/astro_420.jpg")  // 128x96 = 12288 pixels
    XCTAssertThrowsError(try bytes.withUnsafeBytes { try decodeImage($0, maxPixels: 12287) }) {
      XCTAssertTrue("\($0)".contains("128x96"), "\($0)")
    }
    XCTAssertNoThrow(try bytes.withUnsafeBytes { try decodeImage($0, maxPixels: 12288) })
  }

  func testMissingFile() {
    XCTAssertThrowsError(try loadImage(at: "/nonexistent/cat.jpg", options: LoadOptions())) {
      XCTAssertTrue("\($0)".contains("cannot open /nonexistent/cat.jpg"), "\($0)")
    }
  }
}
