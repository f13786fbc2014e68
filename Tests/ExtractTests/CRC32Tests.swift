import XCTest

@testable import Support

final class CRC32Tests: XCTestCase {
  /// The check value of CRC-32/ISO-HDLC ("123456789"), and the empty input.
  func testKnownAnswers() {
    XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
    XCTAssertEqual(CRC32.checksum([UInt8]()), 0)
    XCTAssertEqual(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)), 0x414F_A339)
  }

  /// zlib's CRC equals the byte-wise table reference over swept lengths and alignments, whole and
  /// fed in uneven pieces.
  func testMatchesReferenceWholeAndInPieces() {
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<70_001).map { _ in UInt8.random(in: 0...255, using: &generator) }
    bytes.withUnsafeBytes { all in
      for length in [1, 3, 7, 8, 15, 16, 31, 32, 33, 255, 256, 1023, 4096, 4099, 70_000] {
        for start in [0, 1, 3] where start + length <= all.count {
          let piece = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
          XCTAssertEqual(CRC32.update(0, piece), CRC32.referenceUpdate(0, piece), "length \(length) at \(start)")
        }
      }
      var crc: UInt32 = 0
      var offset = 0
      for size in [1, 5, 64, 999, 8, 12_345, 3] {
        crc = CRC32.update(crc, UnsafeRawBufferPointer(rebasing: all[offset..<(offset + size)]))
        offset += size
      }
      crc = CRC32.update(crc, UnsafeRawBufferPointer(rebasing: all[offset...]))
      XCTAssertEqual(crc, CRC32.referenceUpdate(0, all))
    }
  }
}
