// TIFF, WebP and GIF, decoded through libtiff, libwebp and giflib, against Pillow's
// open().convert('RGB') of every variant the fixture script writes, and the files Pillow
// refuses.
import Foundation
import Support
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

  /// The documented departures from Pillow: refused with a reason, never decoded differently.
  func testDocumentedRefusals() throws {
    let manifest = try LibraryFormatManifest.load()
    XCTAssertFalse(manifest.refused.isEmpty)
    for entry in manifest.refused {
      XCTAssertThrowsError(try decodeLibraryFormat(entry.file), entry.note) { error in
        print("\(entry.file) (\(entry.note)): \(error)")
        XCTAssertTrue("\(error)".contains(entry.reason), "\(entry.file): '\(error)'")
      }
    }
  }

  /// The orientation reported is what Pillow's getexif() reports after loading (a TIFF's tag is
  /// already applied and gone), and `.apply` turns the pixels as exif_transpose does.
  func testOrientationAsPillowReportsIt() throws {
    let manifest = try LibraryFormatManifest.load()
    var turned = 0
    for entry in manifest.decode {
      let bytes = try libraryFormatBytes(entry.file)
      let (_, orientation) = try bytes.withUnsafeBytes { try decodeImage($0) }
      XCTAssertEqual(orientation, entry.orientation, entry.file)
      guard let applied = entry.applied, let width = entry.appliedWidth, let height = entry.appliedHeight else {
        continue
      }
      let (image, _) = try bytes.withUnsafeBytes { try decodeImage($0, exif: .apply) }
      let expected = RGBImage(width: width, height: height, pixels: try libraryFormatBytes("rgb/" + applied))
      XCTAssertEqual(image, expected, entry.file)
      turned += 1
    }
    XCTAssertGreaterThan(turned, 0)
  }

  /// loadImage (decode + resize) against Keras' own load_img + img_to_array.
  func testLoadImageMatchesKeras() throws {
    let manifest = try LibraryFormatManifest.load()
    XCTAssertFalse(manifest.keras.isEmpty)
    for entry in manifest.keras {
      let interpolation = try XCTUnwrap(Interpolation(rawValue: entry.interpolation))
      let options = LoadOptions(height: entry.height, width: entry.width, interpolation: interpolation)
      let path = libraryFormatDirectory.appendingPathComponent(entry.file).path
      let loaded = try loadImage(at: path, options: options)
      let crc = loaded.image.pixels.withUnsafeBytes { CRC32.update(0, $0) }
      XCTAssertEqual(crc, entry.crc32, "\(entry.file) \(entry.height)x\(entry.width) \(entry.interpolation)")
    }
    print("load_img: \(manifest.keras.count) cases checked against \(manifest.keras[0].via)")
  }

  /// Several threads decoding at once get what one thread gets (libtiff's messages go to each
  /// file's own handle; giflib and libwebp keep no global state).
  func testConcurrentDecodingIsDeterministic() throws {
    let manifest = try LibraryFormatManifest.load()
    let files = manifest.decode.map(\.file) + manifest.bad.map(\.file) + manifest.refused.map(\.file)
    let serial = files.map { try? decodeLibraryFormat($0) }
    final class Results: @unchecked Sendable {  // guarded by `lock`
      let lock = NSLock()
      var images: [Int: RGBImage] = [:]
    }
    let results = Results()
    DispatchQueue.concurrentPerform(iterations: files.count * 3) { i in
      let image = try? decodeLibraryFormat(files[i % files.count])
      results.lock.withLock { results.images[i] = image }
    }
    for i in 0..<(files.count * 3) {
      XCTAssertEqual(results.images[i], serial[i % files.count], files[i % files.count])
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
