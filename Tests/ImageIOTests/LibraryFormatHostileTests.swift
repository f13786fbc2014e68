// TIFF, WebP and GIF files that are damaged or built to cost a decoder far more than their
// size: each fails with a one-line reason (or decodes), quickly, without allocating for what
// the header claims, and without a word from libtiff on stderr.
import Foundation
import Support
import XCTest

@testable import ImageIO

final class LibraryFormatHostileTests: XCTestCase {
  /// Cut short and bytes flipped, every fixture: never a crash, a hang or a multi-line message.
  /// libtiff's complaints about them stay off stderr.
  func testDamagedFilesFailCleanlyAndQuietly() throws {
    let manifest = try LibraryFormatManifest.load()
    var generator = SplitMix64(seed: 13)
    var failures = 0
    var decoded = 0
    let printed = try capturingStandardError {
      for entry in manifest.decode {
        let good = try libraryFormatBytes(entry.file)
        var variants: [[UInt8]] = [1, 2, 3, 10, 40, 100, 200, 400].compactMap { cut in
          cut < good.count ? Array(good.prefix(good.count - cut)) : nil
        }
        variants.append(Array(good.prefix(good.count / 2)))
        for _ in 0..<8 {
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
            XCTAssertFalse(text.isEmpty || text.contains("\n"), "\(entry.file): \(text)")
            failures += 1
          }
        }
      }
    }
    XCTAssertEqual(printed, "", "the libraries wrote to stderr")
    XCTAssertGreaterThan(failures, 0)
    print("damaged TIFF/WebP/GIF files: \(failures) refused with a reason, \(decoded) decoded anyway")
  }

  /// The pixel limit applies to each format's header size, before any pixel is decoded.
  func testPixelLimitFromTheHeader() throws {
    for file in ["src/rgb8_lzw.tif", "src/lossy_q80.webp", "src/global_table.gif"] {
      let image = try decodeLibraryFormat(file)
      let pixels = image.width * image.height
      XCTAssertNoThrow(try decodeLibraryFormat(file, maxPixels: pixels), file)
      XCTAssertThrowsError(try decodeLibraryFormat(file, maxPixels: pixels - 1), file) {
        XCTAssertTrue("\($0)".contains("\(image.width)x\(image.height)"), "\($0)")
      }
    }
  }

  /// A 64x64 TIFF declaring 65536x65536 tiles of 16-bit RGB (24 GiB each): refused before any
  /// tile buffer exists.
  func testHugeTilesAreRefused() throws {
    let tiff = tinyTIFF(
      width: 64, height: 64,
      tags: [
        (258, 16), (259, 1), (262, 2), (277, 3), (322, 65536), (323, 65536), (324, 8), (325, 1 << 30),
      ])
    try expectQuickRefusal(tiff, containing: "TIFF")
  }

  /// Strips whose byte counts claim far more than the file holds, and a strip offset past the
  /// end: libtiff's read errors, reported as ours.
  func testStripsPastTheEndAreRefused() throws {
    let pastEnd = tinyTIFF(
      width: 4000, height: 4000,
      tags: [(258, 8), (259, 1), (262, 1), (277, 1), (273, 8), (278, 4000), (279, 16_000_000)])
    try expectQuickRefusal(pastEnd, containing: "corrupt TIFF")
    let farOffset = tinyTIFF(
      width: 16, height: 16, tags: [(258, 8), (259, 5), (262, 1), (277, 1), (273, 0x7FFF_FFFF), (278, 16), (279, 256)])
    try expectQuickRefusal(farOffset, containing: "corrupt TIFF")
  }

  /// A 40-byte GIF whose frame claims 10000x10000 pixels (within the pixel limit) with no data
  /// for them: refused at the first row, quickly.
  func testGIFFrameWithoutDataIsRefusedQuickly() throws {
    var gif: [UInt8] = Array("GIF89a".utf8) + [0x10, 0x27, 0x10, 0x27, 0x80, 0, 0] + [0, 0, 0, 255, 255, 255]
    gif += [0x2C, 0, 0, 0, 0, 0x10, 0x27, 0x10, 0x27, 0, 8, 2, 0x00, 0x01, 0, 0x3B]
    try expectQuickRefusal(gif, containing: "GIF")
  }

  private func expectQuickRefusal(_ bytes: [UInt8], containing reason: String) throws {
    let start = DispatchTime.now()
    XCTAssertThrowsError(try bytes.withUnsafeBytes { try decodeImage($0) }) {
      print("refused: \($0)")
      XCTAssertTrue("\($0)".contains(reason), "\($0)")
    }
    XCTAssertLessThan(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9, 1)
  }
}

/// A little-endian TIFF holding one directory of LONG tags (tag, value), sorted as TIFF wants,
/// and nothing else: the header is all these tests need.
func tinyTIFF(width: Int, height: Int, tags: [(Int, Int)]) -> [UInt8] {
  func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
  func u32(_ v: Int) -> [UInt8] { u16(v & 0xFFFF) + u16((v >> 16) & 0xFFFF) }
  let all = ([(256, width), (257, height)] + tags).sorted { $0.0 < $1.0 }
  var out: [UInt8] = [0x49, 0x49] + u16(42) + u32(8) + u16(all.count)
  for (tag, value) in all { out += u16(tag) + u16(4) + u32(1) + u32(value) }
  return out + u32(0) + [UInt8](repeating: 0, count: 64)
}

/// Runs `body` with file descriptor 2 sent to a temporary file; returns what was written there.
func capturingStandardError(_ body: () throws -> Void) throws -> String {
  let path = NSTemporaryDirectory() + "stderr-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).txt"
  FileManager.default.createFile(atPath: path, contents: nil)
  defer { try? FileManager.default.removeItem(atPath: path) }
  let file = open(path, O_WRONLY)
  let saved = dup(2)
  fflush(nil)  // every stream: Swift 6 cannot name C's stderr safely
  dup2(file, 2)
  close(file)
  defer {
    fflush(nil)
    dup2(saved, 2)
    close(saved)
  }
  try body()
  fflush(nil)
  return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
}
