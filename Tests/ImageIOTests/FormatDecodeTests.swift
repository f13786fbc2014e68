// BMP and PNM (decoded in Swift) against Pillow 13's open().convert('RGB'), byte for byte, and
// the files Pillow refuses. The fixtures and the rule each one shows are made by
// Tests/Fixtures/pillow/make_format_fixtures.py.
import Foundation
import Support
import XCTest

@testable import ImageIO

final class FormatDecodeTests: XCTestCase {
  func testEveryVariantMatchesPillow() throws {
    let manifest = try loadFormatManifest()
    XCTAssertGreaterThan(manifest.decode.count, 90)
    var worst = 0
    for entry in manifest.decode {
      let image = try decodeFixture("formats/" + entry.file).0
      let expected = RGBImage(
        width: entry.width, height: entry.height, pixels: try fixtureBytes("formats/rgb/" + entry.expected))
      let diff = maxAbsDiff(image, expected)
      let first = zip(image.pixels, expected.pixels).enumerated().first { $0.element.0 != $0.element.1 }?.offset
      XCTAssertTrue(
        image == expected,
        "\(entry.file) (\(entry.note)): \(image.width)x\(image.height), max |diff| \(diff), first at byte "
          + "\(first.map(String.init) ?? "-")")
      worst = max(worst, diff)
    }
    print("BMP/PNM: \(manifest.decode.count) files, max |diff| vs Pillow \(manifest.pillow): \(worst)")
  }

  /// loadImage on whole files against Keras' load_img + img_to_array (CRC-32s).
  func testLoadImageMatchesKeras() throws {
    let manifest = try loadFormatManifest()
    XCTAssertFalse(manifest.keras.isEmpty)
    for entry in manifest.keras {
      let options = LoadOptions(
        height: entry.height, width: entry.width,
        interpolation: try XCTUnwrap(Interpolation(rawValue: entry.interpolation)))
      let loaded = try loadImage(at: fixturePath("formats/" + entry.file), options: options)
      let crc = loaded.image.pixels.withUnsafeBytes { CRC32.update(0, $0) }
      XCTAssertEqual(crc, entry.crc32, "\(entry.file) \(entry.height)x\(entry.width) \(entry.interpolation)")
    }
    print("load_img: \(manifest.keras.count) BMP/PNM cases checked against \(manifest.keras[0].via)")
  }

  func testFilesPillowRefusesAreRefused() throws {
    let manifest = try loadFormatManifest()
    XCTAssertGreaterThan(manifest.bad.count, 40)
    for entry in manifest.bad {
      XCTAssertThrowsError(try decodeFixture("formats/" + entry.file), entry.file) { error in
        let text = "\(error)"
        print("\(entry.file): \(text)   [Pillow: \(entry.pillow)]")
        XCTAssertTrue(text.contains(entry.reason), "\(entry.file): '\(text)'")
        XCTAssertFalse(text.contains("\n"))
      }
    }
  }

  /// Pillow reads ASCII PNM data in 1 MiB blocks and checks all of the block holding the last
  /// sample, none of the next: junk one byte inside is refused, one byte outside is not.
  func testASCIIDataIsCheckedToTheEndOfItsMebibyteBlock() throws {
    let manifest = try loadFormatManifest()
    XCTAssertEqual(manifest.blocks.count, 10)
    for block in manifest.blocks {
      let bytes = Array(block.prefix.utf8) + [UInt8](repeating: 0x20, count: block.spaces) + Array(block.suffix.utf8)
      let accepted = (try? bytes.withUnsafeBytes { try decodeImage($0) }) != nil
      XCTAssertEqual(accepted, block.accepted, "\(block.prefix) + \(block.spaces) spaces + \(block.suffix)")
    }
  }

  /// Sizes are refused from the header alone, before the pixels' memory is taken: huge headers
  /// by the pixel limit, and data too short for its header (an RLE stream, ASCII samples) by
  /// counting first. Each is quick.
  func testAbsurdSizesAreRefusedBeforeDecoding() throws {
    for (file, reason) in [
      ("bad/bomb.bmp", "100000x100000"), ("bad/bomb.ppm", "100000x100000"),
      ("bad/bomb_rle.bmp", "fills 13261020 of 13000x13000 pixels"), ("bad/bomb_ascii.pgm", "needs 337999999 bytes"),
    ] {
      let start = DispatchTime.now()
      XCTAssertThrowsError(try decodeFixture("formats/" + file)) { XCTAssertTrue("\($0)".contains(reason), "\($0)") }
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
      XCTAssertLessThan(seconds, 0.1, file)
    }
    // The limit is Pillow's rule, width * height, for both formats: 23x13 = 299 pixels.
    for file in ["src/rgb24.bmp", "src/rle8.bmp", "src/p6.ppm", "src/p3.ppm"] {
      let bytes = try fixtureBytes("formats/" + file)
      XCTAssertThrowsError(try bytes.withUnsafeBytes { try decodeImage($0, maxPixels: 298) }, file) {
        XCTAssertTrue("\($0)".contains("23x13"), "\($0)")
      }
      XCTAssertNoThrow(try bytes.withUnsafeBytes { try decodeImage($0, maxPixels: 299) }, file)
    }
  }

  /// Every good fixture cut at every length, and with bytes flipped: each copy decodes or fails
  /// with a one-line reason; never a crash (a trap on a bad index or an overflow would be one).
  func testDamagedFilesFailCleanly() throws {
    let manifest = try loadFormatManifest()
    var generator = SplitMix64(seed: 13)
    var (refused, decoded) = (0, 0)
    for entry in manifest.decode {
      let good = try fixtureBytes("formats/" + entry.file)
      var variants = (0..<good.count).map { Array(good.prefix($0)) }
      for _ in 0..<20 {
        var damaged = good
        for _ in 0..<(1 + Int(generator.next() % 3)) {
          damaged[Int(generator.next() % UInt64(good.count))] = UInt8(truncatingIfNeeded: generator.next())
        }
        variants.append(damaged)
      }
      for bytes in variants {
        do {
          _ = try bytes.withUnsafeBytes { try decodeImage($0, maxPixels: 4_000_000) }
          decoded += 1
        } catch {
          XCTAssertFalse("\(error)".isEmpty || "\(error)".contains("\n"), "\(error)")
          refused += 1
        }
      }
    }
    print("damaged BMP/PNM files: \(refused) refused with a reason, \(decoded) decoded anyway")
  }
}
