// `.npz` files as numpy writes them (committed fixtures, Tests/Fixtures/make_array_fixtures.py):
// stored and deflated members read alike, in any row order, and damage is found when the array
// is opened, before anything uses it.

import Foundation
import ToolTesting
import XCTest

@testable import ArrayIO

let arrayFixtures = fixturesDirectory.appendingPathComponent("arrays")

final class NpzTests: XCTestCase {
  private func temporaryFile(_ bytes: [UInt8], _ name: String) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "headstart-npz-\(UUID().uuidString)-\(name)")
    try Data(bytes).write(to: url)
    addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url.path
  }

  func testStoredAndDeflatedMembersReadTheSameRowsInAnyOrder() throws {
    let stored = try ArrayFile(path: arrayFixtures.appendingPathComponent("cifar_like.npz").path)
    let deflated = try ArrayFile(path: arrayFixtures.appendingPathComponent("cifar_like_compressed.npz").path)
    XCTAssertEqual(stored.container, .npz)
    XCTAssertEqual(stored.arrayNames().sorted(), ["x", "y", "y_onehot"])
    let a = try stored.array("x")
    let b = try deflated.array(nil)
    XCTAssertEqual(a.shape, [6, 32, 32, 3])
    XCTAssertEqual(b.shape, a.shape)
    let whole = try a.bytes(rows: 0..<6)
    XCTAssertEqual(try b.bytes(rows: 0..<6), whole)
    // Forwards with gaps, then backwards: the deflated stream skips ahead and starts over.
    for rows in [4..<6, 1..<2, 2..<5, 0..<1, 5..<6, 0..<6] {
      XCTAssertEqual(try b.bytes(rows: rows), Array(whole[(rows.lowerBound * 3072)..<(rows.upperBound * 3072)]))
    }
    XCTAssertEqual(try stored.array("y").numbers(rows: 0..<6), [3, 0, 1, 3, 2, 0])
    XCTAssertEqual(try deflated.array("y_onehot").numbers(rows: 1..<2), [1, 0, 0, 0])
    XCTAssertThrowsError(try a.bytes(rows: 5..<7))
  }

  func testMissingMembersAreNamedWithWhatTheFileHolds() throws {
    let file = try ArrayFile(path: arrayFixtures.appendingPathComponent("cifar_like.npz").path)
    XCTAssertThrowsError(try file.array("x_train")) { error in
      XCTAssertTrue("\(error)".contains("holds no array 'x_train' (it holds: x, y, y_onehot)"), "\(error)")
    }
  }

  /// Damage anywhere in a member, or a file cut short, is refused when the array is opened.
  func testDamagedOrTruncatedFilesAreRefused() throws {
    for name in ["cifar_like.npz", "cifar_like_compressed.npz"] {
      let good = [UInt8](try Data(contentsOf: arrayFixtures.appendingPathComponent(name)))
      var flipped = good
      flipped[2_000] ^= 0x10  // inside x's data in both files
      let damaged = try temporaryFile(flipped, name)
      XCTAssertThrowsError(try ArrayFile(path: damaged).array("x"), name) { error in
        XCTAssertTrue(error is ArrayError, "\(error)")
      }
      for length in [0, 10, 500, good.count / 2, good.count - 30] {
        let cut = try temporaryFile(Array(good.prefix(length)), name)
        XCTAssertThrowsError(try ArrayFile(path: cut).array("x"), "\(name) cut to \(length) bytes") { error in
          XCTAssertTrue(error is ArrayError, "\(error)")
        }
      }
    }
  }

  func testNpyFilesAndUnknownFiles() throws {
    let data = (0..<48).map { UInt8($0) }
    let path = try temporaryFile(
      npyBytes(header: "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 2, 2, 3), }", data: data), "a.npy")
    let file = try ArrayFile(path: path)
    XCTAssertEqual(file.container, .npy)
    XCTAssertEqual(try file.array(nil).bytes(rows: 1..<3), Array(data[12..<36]))
    XCTAssertThrowsError(try file.array("x"))
    let text = try temporaryFile(Array("hello".utf8), "a.txt")
    XCTAssertThrowsError(try ArrayFile(path: text)) { error in
      XCTAssertTrue("\(error)".contains("not a .npy, .npz or HDF5 file"), "\(error)")
    }
  }
}
