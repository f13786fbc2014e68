// Small files built to cost a decoder far more than their size: each is refused with its reason
// (recorded as a bad image, like the pixel limit), quickly and without allocating for it. The
// files are made here, from the fixtures, by byte manipulation described at each helper.
import CShims
import Foundation
import Support
import XCTest

@testable import ImageIO

final class HostileImageTests: XCTestCase {
  /// A zTXt, iTXt or iCCP chunk whose 420 KB of zlib inflate to 64 MiB: refused after its first
  /// MiB, in well under a second.
  func testPNGTextAndICCBombsAreRefused() throws {
    let png = try fixtureBytes("src/gray8.png")
    let bomb = zlibZeros(count: 64 << 20)
    XCTAssertLessThan(bomb.count, 450_000)
    let chunks: [(String, [UInt8])] = [
      ("zTXt", Array("Comment".utf8) + [0, 0] + bomb),
      ("iTXt", Array("Comment".utf8) + [0, 1, 0] + Array("en".utf8) + [0, 0] + bomb),
      ("iCCP", Array("profile".utf8) + [0, 0] + bomb),
    ]
    for (type, data) in chunks {
      let start = DispatchTime.now()
      XCTAssertThrowsError(try decode(insertingChunk(type, data, into: png))) {
        XCTAssertEqual(
          "\($0)",
          "PNG \(type) chunk at byte 33 decompresses to more than 1048576 bytes, Pillow's limit for text and ICC "
            + "chunks (a possible decompression bomb)")
      }
      XCTAssertLessThan(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9, 1)
    }
  }

  /// Pillow's limits, not tighter ones: a text chunk of exactly 1 MiB is read (and ignored), and
  /// so are 64 of them; one byte more in a chunk, or a 65th, is refused.
  func testPNGTextLimitsAreExactlyPillows() throws {
    let png = try fixtureBytes("src/gray8.png")
    let expected = try decode(png)
    let mebibyte = Array("Comment".utf8) + [0, 0] + zlibZeros(count: 1 << 20)
    XCTAssertEqual(try decode(insertingChunk("zTXt", mebibyte, into: png)), expected)
    XCTAssertThrowsError(
      try decode(insertingChunk("zTXt", Array("Comment".utf8) + [0, 0] + zlibZeros(count: (1 << 20) + 1), into: png)))
    var many = png
    for _ in 0..<64 { many = insertingChunk("zTXt", mebibyte, into: many) }
    XCTAssertEqual(try decode(many), expected)
    XCTAssertThrowsError(try decode(insertingChunk("tEXt", Array("Comment".utf8) + [0, 0x41], into: many))) {
      XCTAssertEqual(
        "\($0)",
        "PNG text chunks hold more than 67108864 bytes together, Pillow's limit (a possible decompression bomb)")
    }
    // A stream that is not zlib is ignored, as Pillow ignores it.
    XCTAssertEqual(try decode(insertingChunk("zTXt", Array("Comment".utf8) + [0, 0, 1, 2, 3], into: png)), expected)
  }

  /// A progressive JPEG may have up to HS_JPEG_MAX_SCANS scans; one more is refused before it is
  /// read. The file is the fixture with its first scan (the DC coefficients, which a repeat sets
  /// to the same values, so the picture is unchanged) repeated right after itself.
  func testProgressiveJPEGScanLimit() throws {
    let jpeg = try fixtureBytes("src/astro_progressive.jpg")
    let scans = 10
    let limit = Int(HS_JPEG_MAX_SCANS)
    XCTAssertEqual(try decode(repeatingFirstScan(of: jpeg, times: limit - scans)), try decode(jpeg))
    XCTAssertThrowsError(try decode(repeatingFirstScan(of: jpeg, times: limit - scans + 1))) {
      XCTAssertEqual(
        "\($0)",
        "progressive JPEG with more than \(limit) scans, refused (real files have about ten; so many can keep a "
          + "decoder busy for minutes)")
    }
  }

  private func decode(_ bytes: [UInt8]) throws -> RGBImage {
    try bytes.withUnsafeBytes { try decodeImage($0).0 }
  }
}

/// `png` with a chunk of `type` and `data` inserted right after IHDR (at byte 33), CRC included.
func insertingChunk(_ type: String, _ data: [UInt8], into png: [UInt8]) -> [UInt8] {
  let length = UInt32(data.count)
  let typeAndData = Array(type.utf8) + data
  let crc = typeAndData.withUnsafeBytes { CRC32.update(0, $0) }
  let chunk = bigEndian(length) + typeAndData + bigEndian(crc)
  return Array(png[..<33]) + chunk + Array(png[33...])
}

private func bigEndian(_ value: UInt32) -> [UInt8] {
  [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) }
}

/// A zlib stream of `count` zero bytes, 159 times smaller (zlib itself would do 1032 with a
/// dynamic Huffman block; fixed codes are simpler to write by hand): one fixed-Huffman block holding a literal 0, then copies of "258 bytes from distance 1"
/// (RFC 1951, 3.2.6: literal 0 is the 8-bit code 00110000, length 258 the 8-bit code 11000101
/// with no extra bits, distance 1 the 5-bit code 00000), then literal zeros for the remainder
/// and end-of-block (7 zero bits); then the Adler-32 of the zeros (a = 1, b = count mod 65521).
func zlibZeros(count: Int) -> [UInt8] {
  precondition(count >= 1)
  var bits = BitWriter()
  bits.value(1, bits: 1)  // BFINAL
  bits.value(1, bits: 2)  // BTYPE 01: fixed Huffman codes
  bits.code(0b0011_0000, bits: 8)
  for _ in 0..<((count - 1) / 258) {
    bits.code(0b1100_0101, bits: 8)
    bits.code(0, bits: 5)
  }
  for _ in 0..<((count - 1) % 258) { bits.code(0b0011_0000, bits: 8) }
  bits.code(0, bits: 7)
  let adler = UInt32(count % 65521) << 16 | 1
  return [0x78, 0x01] + bits.bytes + bigEndian(adler)
}

/// Deflate's bit order: fields fill each byte from its least significant bit; values are
/// written least significant bit first, Huffman codes most significant bit first.
private struct BitWriter {
  var bytes: [UInt8] = []
  private var used = 0

  mutating func value(_ value: Int, bits: Int) {
    for i in 0..<bits { put(value >> i & 1) }
  }

  mutating func code(_ code: Int, bits: Int) {
    for i in (0..<bits).reversed() { put(code >> i & 1) }
  }

  private mutating func put(_ bit: Int) {
    if used % 8 == 0 { bytes.append(0) }
    bytes[bytes.count - 1] |= UInt8(bit) << (used % 8)
    used += 1
  }
}

/// `jpeg` with its first scan (the SOS marker segment and the entropy-coded data after it, up to
/// the next marker that is not a restart marker or a stuffed 0xFF00) repeated `times` more times
/// right after itself.
func repeatingFirstScan(of jpeg: [UInt8], times: Int) -> [UInt8] {
  var at = 2  // after SOI
  while !(jpeg[at] == 0xFF && jpeg[at + 1] == 0xDA) {
    at += 2 + (Int(jpeg[at + 2]) << 8 | Int(jpeg[at + 3]))
  }
  let start = at
  at += 2 + (Int(jpeg[at + 2]) << 8 | Int(jpeg[at + 3]))
  while !(jpeg[at] == 0xFF && jpeg[at + 1] != 0 && !(0xD0...0xD7).contains(jpeg[at + 1])) { at += 1 }
  let scan = jpeg[start..<at]
  return Array(jpeg[..<at]) + Array([ArraySlice](repeating: scan, count: times).joined()) + Array(jpeg[at...])
}
