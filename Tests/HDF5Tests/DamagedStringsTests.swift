// Variable-length strings live in HDF5's global heap, which libhdf5 1.10 trusts: a damaged
// object length there makes it copy from wild addresses (SIGSEGV) or fill an absurd length.
// Such reads run in a child process (HDF5IsolatedStrings.swift), or in the preflight's child
// when it reads them whole; these tests damage a real heap and require a clean error, with the
// process alive to report it.
import CShims
import Foundation
import HDF5
import XCTest

final class DamagedStringsTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("damaged-strings-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  private let paths = ["cats/a.jpg", "dogs/b.jpg", "dogs/c d.png"]

  /// A file with `/paths` (variable-length strings) and an attribute of them, whose first
  /// global-heap object's length is set to `length` when given.
  private func writeFile(objectLength length: UInt64?) throws -> String {
    let path = folder.appendingPathComponent("strings.h5").path
    try HDF5File.withNewFile(path) { file in
      _ = try file.createDataset("paths", strings: paths)
    }
    guard let length else { return path }
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    // A global heap collection: "GCOL", version, 3 reserved bytes, the collection's 8-byte size,
    // then objects: 2-byte index, 2-byte reference count, 4 reserved bytes, 8-byte size, data.
    let signature = Array("GCOL".utf8)
    let start = try XCTUnwrap(
      (0...(bytes.count - 4)).first { bytes[$0..<($0 + 4)].elementsEqual(signature) }, "no global heap")
    let firstObjectSize = start + 16 + 8
    for i in 0..<8 { bytes[firstObjectSize + i] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(i))) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  private func readPaths(_ path: String) throws -> [String] {
    try HDF5File.withFile(path) { file in try file.openDataset("paths").readStrings() }
  }

  func testIntactStringsRead() throws {
    XCTAssertEqual(try readPaths(try writeFile(objectLength: nil)), paths)
  }

  func testWildObjectLengthIsAnErrorNotACrash() throws {
    // Far past the end of the heap: libhdf5 1.10 memcpy's from unmapped memory.
    let path = try writeFile(objectLength: 0x00ff_ffff_ffff_0000)
    XCTAssertThrowsError(try readPaths(path)) { error in
      // The preflight of the open (PreflightTests) reads these strings too, so it is the open
      // that fails; the strings' own child still guards string datasets too large for it.
      let text = String(describing: error)
      XCTAssertTrue(text.contains("strings.h5"), text)
      XCTAssertTrue(text.contains("damaged") || text.contains("cannot"), text)
    }
  }

  /// The preflight of the open reads every value up to 1 MiB in its child, these strings
  /// included; reading them again in a child of their own would only repeat that, one fork each.
  func testStringsThePreflightReadNeedNoChildOfTheirOwn() throws {
    let path = try writeFile(objectLength: nil)
    try HDF5File.withFile(path, mode: .readWrite) { file in try file.setAttribute("label", string: "cats and dogs") }
    let before = hs_hdf5_children_started()
    try HDF5File.withFile(path) { file in
      XCTAssertEqual(hs_hdf5_children_started(), before + 1, "the preflight")
      XCTAssertEqual(try file.openDataset("paths").readStrings(), paths)
      XCTAssertEqual(try file.stringAttribute("label"), "cats and dogs")
      XCTAssertEqual(hs_hdf5_children_started(), before + 1, "no child for strings the preflight read")
    }
  }

  /// Strings beyond what the preflight reads (more than 1 MiB of pointers: 131,072) are still
  /// read in a child.
  func testStringsBeyondThePreflightStillReadInAChild() throws {
    let path = folder.appendingPathComponent("many.h5").path
    let many = (0..<140_000).map { "images/\($0).jpg" }
    try HDF5File.withNewFile(path) { file in _ = try file.createDataset("paths", strings: many) }
    let before = hs_hdf5_children_started()
    let read = try HDF5File.withFile(path) { file in try file.openDataset("paths").readStrings() }
    XCTAssertEqual(read, many)
    XCTAssertEqual(hs_hdf5_children_started(), before + 2, "the preflight, then the strings' own child")
  }

  /// A file checked and read is damaged in place and opened again: the new open is checked
  /// again (the earlier preflight does not vouch for it) and refused.
  func testAFileDamagedAfterACheckedReadIsCheckedAgain() throws {
    let path = try writeFile(objectLength: nil)
    XCTAssertEqual(try readPaths(path), paths)
    let damaged = try writeFile(objectLength: 0x00ff_ffff_ffff_0000)
    XCTAssertEqual(damaged, path)
    XCTAssertThrowsError(try readPaths(path)) { error in
      XCTAssertTrue(String(describing: error).contains("damaged"), String(describing: error))
    }
  }

  func testTheProcessGoesOnAfterAFailedRead() throws {
    let damaged = try writeFile(objectLength: 0x7fff_ffff_0000)
    XCTAssertThrowsError(try readPaths(damaged))
    // The same process still reads HDF5: the damage stayed in the child.
    XCTAssertEqual(try readPaths(try writeFile(objectLength: nil)), paths)
  }
}
