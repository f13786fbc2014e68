// The stored form of paths (/paths, /failed/paths, predict's path column): every byte that is not
// part of valid UTF-8 as `\xHH`, a backslash as `\\`, the rest kept; reversible for any bytes.

import FeatureStore
import Support
import XCTest

final class StoredPathTests: XCTestCase {
  func testLatin1BackslashesAndBrokenSequencesAreEscaped() {
    let cases: [([UInt8], String)] = [
      (Array("caf".utf8) + [0xE9] + Array(".jpg".utf8), #"caf\xE9.jpg"#),
      (Array(#"a\b.jpg"#.utf8), #"a\\b.jpg"#),
      // A name that looks like an escape is itself escaped, so it cannot be read as one.
      (Array(#"\xE9"#.utf8), #"\\xE9"#),
      (Array("café/€.png".utf8), "café/€.png"),
      ([0xE2, 0x82], #"\xE2\x82"#),  // a cut-off three-byte sequence
      ([0xE2, 0x82, 0x41], #"\xE2\x82A"#),
      ([0xC0, 0xAF], #"\xC0\xAF"#),  // overlong '/'
      ([0xED, 0xA0, 0x80], #"\xED\xA0\x80"#),  // a UTF-16 surrogate
      ([0xF4, 0x90, 0x80, 0x80], #"\xF4\x90\x80\x80"#),  // past U+10FFFF
      ([0xFF, 0x5C, 0xFE], #"\xFF\\\xFE"#),
      ([], ""),
    ]
    for (bytes, stored) in cases {
      XCTAssertEqual(escapePath(bytes), stored, "\(bytes)")
      XCTAssertEqual(unescapePath(stored), bytes, stored)
    }
  }

  func testUnescapeReadsBothHexCasesAndKeepsAStrayBackslash() {
    XCTAssertEqual(unescapePath(#"caf\xe9.jpg"#), Array("caf".utf8) + [0xE9] + Array(".jpg".utf8))
    XCTAssertEqual(unescapePath(#"images\cat.jpg"#), Array(#"images\cat.jpg"#.utf8))
    XCTAssertEqual(unescapePath(#"end\"#), Array(#"end\"#.utf8))
    XCTAssertEqual(unescapePath(#"a\x4"#), Array(#"a\x4"#.utf8))
    XCTAssertEqual(unescapePath(#"a\xG1"#), Array(#"a\xG1"#.utf8))
    XCTAssertEqual(canonicalStoredPath(#"caf\xe9.jpg"#), #"caf\xE9.jpg"#)
    XCTAssertEqual(canonicalStoredPath(#"images\cat.jpg"#), #"images\\cat.jpg"#)
    XCTAssertEqual(canonicalStoredPath(#"\xC3\xA9.jpg"#), "é.jpg")
    XCTAssertEqual(normalisedRelativePath(#" ./caf\xe9.jpg "#), #"caf\xE9.jpg"#)
    XCTAssertEqual(filePathBytes(root: "/data", stored: #"a\\b\xE9"#), Array(#"/data/a\b"#.utf8) + [0xE9])
    XCTAssertEqual(filePathBytes(root: "", stored: #"x\xE9"#), [UInt8(ascii: "x"), 0xE9])
  }

  /// unescape(escape(bytes)) == bytes for seeded random byte strings, drawn mostly from the bytes
  /// that make trouble: backslashes, `x`, hex digits, lead and continuation bytes.
  func testRoundTripOnRandomBytes() {
    var random = SplitMix64(seed: 12)
    let tricky: [UInt8] = [
      0x5C, 0x78, 0x45, 0x39, 0x61, 0x2F, 0x2E, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xED, 0xA0, 0xC0,
      0xFF,
    ]
    var escaped = 0
    for _ in 0..<5000 {
      let length = random.nextIndex(below: 24)
      let bytes = (0..<length).map { _ in
        random.nextIndex(below: 2) == 0
          ? tricky[random.nextIndex(below: tricky.count)] : UInt8(random.nextIndex(below: 256))
      }
      let stored = escapePath(bytes)
      XCTAssertEqual(unescapePath(stored), bytes, stored)
      // The stored form is text: its bytes are valid UTF-8 as they are.
      XCTAssertEqual(String(validating: Array(stored.utf8), as: UTF8.self), stored)
      XCTAssertEqual(canonicalStoredPath(stored), stored)
      if stored.utf8.count != bytes.count { escaped += 1 }
    }
    XCTAssertGreaterThan(escaped, 1000, "the draws should exercise the escape")
  }

  /// Names that are valid UTF-8 and hold no backslash are stored exactly as they are.
  func testEscapeIsTheIdentityOnUTF8WithoutBackslashes() {
    var random = SplitMix64(seed: 34)
    // One-, two-, three- and four-byte scalars (no surrogates), backslash excluded.
    let ranges: [ClosedRange<UInt32>] = [
      0x20...0x7E, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF,
    ]
    for _ in 0..<3000 {
      var name = ""
      for _ in 0..<random.nextIndex(below: 16) {
        let range = ranges[random.nextIndex(below: ranges.count)]
        let value = range.lowerBound + UInt32(random.nextIndex(below: Int(range.upperBound - range.lowerBound) + 1))
        guard value != 0x5C, let scalar = Unicode.Scalar(value) else { continue }
        name.unicodeScalars.append(scalar)
      }
      XCTAssertEqual(escapePath(Array(name.utf8)), name)
      XCTAssertEqual(unescapePath(name), Array(name.utf8))
    }
  }
}
