// Files Pillow (and so Keras) refuses: each must fail with the right kind of reason.
import Support
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

  func testNonPositiveTargetSize() {
    let options = LoadOptions(height: 0, width: 224)
    XCTAssertThrowsError(try loadImage(at: fixturePath("src/gray.jpg"), options: options)) {
      XCTAssertTrue("\($0)".contains("must be positive"), "\($0)")
    }
  }

  func testMissingFile() {
    XCTAssertThrowsError(try loadImage(at: "/nonexistent/cat.jpg", options: LoadOptions())) {
      XCTAssertTrue("\($0)".contains("cannot open /nonexistent/cat.jpg"), "\($0)")
    }
  }
}

/// Damaged copies of every good fixture (cut short, bytes flipped) must fail cleanly with a
/// reason or decode; never crash, hang or throw a multi-line message. This exercises the
/// setjmp/longjmp paths of both C shims from many places in the libraries.
final class DamagedFileTests: XCTestCase {
  func testDamagedFilesFailCleanly() throws {
    let manifest = try loadManifest()
    var generator = SplitMix64(seed: 11)
    var failures = 0
    var decoded = 0
    for entry in manifest.decode {
      let good = try fixtureBytes(entry.file)
      var variants: [[UInt8]] = [1, 2, 10, 40, 100, 200, 400].compactMap { cut in
        cut < good.count ? Array(good.prefix(good.count - cut)) : nil
      }
      for _ in 0..<6 {
        var damaged = good
        let at = Int(generator.next() % UInt64(good.count))
        damaged[at] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
        variants.append(damaged)
      }
      for bytes in variants {
        do {
          _ = try bytes.withUnsafeBytes { try decodeImage($0, maxPixels: 4_000_000) }
          decoded += 1
        } catch {
          let text = "\(error)"
          XCTAssertTrue(error is ImageError, text)
          XCTAssertFalse(text.isEmpty || text.contains("\n"), text)
          failures += 1
        }
      }
    }
    print("damaged files: \(failures) refused with a reason, \(decoded) decoded anyway")
  }
}

extension BadFileTests {
  /// Pillow refuses a baseline JPEG that lacks only its final EOI marker; so do we.
  func testJPEGWithoutEndMarkerIsTruncated() throws {
    let good = try fixtureBytes("src/astro_420.jpg")
    for cut in [1, 2] {
      let bytes = Array(good.dropLast(cut))
      XCTAssertThrowsError(try bytes.withUnsafeBytes { try decodeImage($0) }) {
        XCTAssertTrue("\($0)".hasPrefix("truncated JPEG"), "\($0)")
      }
    }
  }
}
