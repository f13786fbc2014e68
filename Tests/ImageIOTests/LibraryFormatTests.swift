// TIFF, WebP and GIF, decoded through libtiff, libwebp and giflib, against Pillow's
// open().convert('RGB') of every variant the fixture script writes, and the files Pillow
// refuses.
import Foundation
import XCTest

@testable import ImageIO

final class LibraryFormatTests: XCTestCase {
  func testTIFFMatchesPillow() throws { try checkAgainstPillow(suffix: ".tif") }
  func testWebPMatchesPillow() throws { try checkAgainstPillow(suffix: ".webp") }
  func testGIFMatchesPillow() throws { try checkAgainstPillow(suffix: ".gif") }

  func testBadFilesAreRefused() throws {
    let manifest = try LibraryFormatManifest.load()
    XCTAssertFalse(manifest.bad.isEmpty)
    for entry in manifest.bad {
      XCTAssertThrowsError(try decodeLibraryFormat(entry.file), entry.file) { error in
        let text = "\(error)"
        print("\(entry.file): \(text)   [Pillow: \(entry.pillow)]")
        XCTAssertTrue(text.contains(entry.reason), "\(entry.file): '\(text)'")
        XCTAssertFalse(text.contains("\n"), text)
      }
    }
  }

  /// Each fixture of one format against Pillow: identical bytes, or within the tolerance the
  /// manifest records (with its reason) for that file.
  private func checkAgainstPillow(suffix: String) throws {
    let manifest = try LibraryFormatManifest.load()
    let entries = manifest.decode.filter { $0.file.hasSuffix(suffix) }
    XCTAssertFalse(entries.isEmpty, suffix)
    var worst = 0
    for entry in entries {
      let image: RGBImage
      do {
        image = try decodeLibraryFormat(entry.file)
      } catch {
        XCTFail("\(entry.file) (\(entry.note)): \(error)")
        continue
      }
      let expected = try libraryFormatExpected(entry)
      let diff = maxAbsDiff(image, expected)
      print("\(entry.file) (\(entry.note)): \(image.width)x\(image.height), max |diff| \(diff)")
      XCTAssertLessThanOrEqual(diff, entry.tolerance, "\(entry.file): \(entry.note)")
      worst = max(worst, diff)
    }
    print("\(suffix): \(entries.count) files, max |diff| vs Pillow \(manifest.pillow): \(worst)")
  }
}
