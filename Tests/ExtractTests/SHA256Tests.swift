import Foundation
import Support
import ToolTesting
import XCTest

@testable import Extraction

final class SHA256Tests: XCTestCase {
  private func hex(_ text: String) -> String {
    var hasher = SHA256()
    Array(text.utf8).withUnsafeBytes { hasher.update($0) }
    return hasher.finalizeHex()
  }

  /// FIPS 180-4 example vectors.
  func testKnownVectors() {
    XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    XCTAssertEqual(
      hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  }

  /// Feeding in uneven pieces gives the same digest as one piece (one million 'a's).
  func testIncrementalMatchesWhole() {
    let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
    var pieces = SHA256()
    var offset = 0
    for size in [1, 63, 64, 65, 1000, 7, 4096] where offset < million.count {
      million[offset..<min(million.count, offset + size)].withUnsafeBytes { pieces.update($0) }
      offset += size
    }
    million[offset...].withUnsafeBytes { pieces.update($0) }
    XCTAssertEqual(pieces.finalizeHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }
}
