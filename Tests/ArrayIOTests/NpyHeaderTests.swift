// The `.npy` header parser against numpy's own headers, and against hostile ones: every
// truncation and many garbled variants of a real header must be refused with an ArrayError
// (or parsed), never crash or read past what is given.

import ToolTesting
import XCTest

@testable import ArrayIO

final class NpyHeaderTests: XCTestCase {
  private func parse(_ bytes: [UInt8]) throws -> NpyHeader {
    try NpyHeader(prefix: Array(bytes.prefix(NpyHeader.maximumPrefixBytes)), streamSize: bytes.count, name: "t.npy")
  }

  private func refusal(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
      let header = try parse(bytes)
      XCTFail("accepted \(header)", file: file, line: line)
      return ""
    } catch {
      return (error as? ArrayError)?.description ?? "\(error)"
    }
  }

  func testNumpysHeadersParse() throws {
    let images = npyBytes(
      header: "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 4, 4, 3), }",
      data: [UInt8](repeating: 7, count: 96))
    let header = try parse(images)
    XCTAssertEqual(header.element, .unsigned(bytes: 1))
    XCTAssertEqual(header.shape, [2, 4, 4, 3])
    XCTAssertEqual(header.dataOffset, 128)
    XCTAssertEqual(header.dataBytes, 96)
    let labels = npyBytes(
      header: "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", data: [UInt8](repeating: 0, count: 24),
      major: 2)
    XCTAssertEqual(try parse(labels).element, .signed(bytes: 8))
    XCTAssertEqual(try parse(labels).shape, [3])
    // Hand-written variants numpy also reads: no byte order, double quotes, Python 2 longs.
    let variant = npyBytes(
      header: "{\"shape\": (2L, 3L), \"fortran_order\": False, \"descr\": \"u1\"}",
      data: [UInt8](repeating: 0, count: 6))
    XCTAssertEqual(try parse(variant).shape, [2, 3])
    let empty = npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 10), }", data: [])
    XCTAssertEqual(try parse(empty).dataBytes, 0)
  }

  func testUnsupportedHeadersAreRefusedClearly() {
    func header(_ dict: String, data: Int = 64) -> [UInt8] {
      npyBytes(header: dict, data: [UInt8](repeating: 0, count: data))
    }
    XCTAssertTrue(refusal(header("{'descr': '|u1', 'fortran_order': True, 'shape': (4, 4), }")).contains("Fortran"))
    XCTAssertTrue(refusal(header("{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }")).contains("'>i8'"))
    XCTAssertTrue(refusal(header("{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }")).contains("'<U5'"))
    XCTAssertTrue(refusal(header("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }")).contains("'|O'"))
    XCTAssertTrue(
      refusal(header("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,), }")).contains("unreadable"))
    XCTAssertTrue(
      refusal(header("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), 'x': 1, }")).contains("unreadable"))
    XCTAssertTrue(refusal(header("{'descr': '|u1', 'shape': (2,), }")).contains("expected exactly"))
    XCTAssertTrue(refusal(header("{'descr': '|u1', 'fortran_order': False, 'shape': (-2,), }")).contains("unreadable"))
    XCTAssertTrue(
      refusal(header("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), 'shape': (2,)}")).contains("repeats"))
    // Sizes: a product that overflows, and data shorter than the shape says.
    XCTAssertTrue(
      refusal(header("{'descr': '<f8', 'fortran_order': False, 'shape': (999999999999999999, 99999999999), }"))
        .contains("too large"))
    XCTAssertTrue(
      refusal(header("{'descr': '|u1', 'fortran_order': False, 'shape': (1000, 32, 32, 3), }")).contains("truncated"))
    XCTAssertTrue(
      refusal(header("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1234567890123456789), }"))
        .contains("too many digits"))
    // Not a .npy at all, an unknown version, a header length beyond the limit.
    XCTAssertTrue(refusal(Array("PK\u{3}\u{4}hello world".utf8)).contains("not a .npy"))
    var version = header("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }")
    version[6] = 9
    XCTAssertTrue(refusal(version).contains("version 9"))
    let long: [UInt8] =
      [0x93] + Array("NUMPY".utf8) + [2, 0, 0xFF, 0xFF, 0xFF, 0x7F] + [UInt8](repeating: 0x20, count: 100)
    XCTAssertTrue(refusal(long).contains("more than"))
  }

  /// Every prefix of a real file, and single-byte changes all through its header, are refused
  /// or parsed into a header that fits the bytes given; none crashes.
  func testTruncatedAndGarbledHeadersNeverCrash() throws {
    let good = npyBytes(
      header: "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 4, 4, 3), }",
      data: [UInt8](repeating: 1, count: 96))
    for length in 0..<(good.count - 1) {
      let cut = Array(good.prefix(length))
      XCTAssertThrowsError(try parse(cut), "a prefix of \(length) bytes was accepted")
    }
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int(truncatingIfNeeded: state >> 33)
    }
    let replacements: [UInt8] = [0, 0x27, 0x28, 0x29, 0x2C, 0x3A, 0x7B, 0x7D, 0x39, 0x4C, 0x80, 0xFF, 0x20]
    var accepted = 0
    for _ in 0..<5_000 {
      var bytes = good
      for _ in 0..<(1 + next() % 3) {
        bytes[next() % 128] = replacements[next() % replacements.count]
      }
      if let header = try? parse(bytes) {
        accepted += 1
        XCTAssertLessThanOrEqual(header.dataOffset + header.dataBytes, bytes.count)
      }
    }
    print("garbled headers: \(accepted) of 5000 still parse (padding changes), the rest refused")
  }
}
