// Which datasets carry the Fletcher-32 checksum, what a flipped bit in their values does (an
// HDF5ChecksumError naming the file, the dataset and the chunk's rows), and that the same bit
// flipped in a file of the earlier layout (written with checksums: false) is read silently, as
// before.

import Foundation
import HDF5
import ToolTesting
import XCTest

final class ChecksumTests: XCTestCase {
  /// One dataset of each kind Headstart writes, in a file with or without checksums.
  private func writeEveryKind(_ path: String, checksums: Bool) throws {
    try HDF5File.withNewFile(path, checksums: checksums) { file in
      try file.createDataset("matrix", floats: (0..<(300 * 1000)).map { Float($0) }, shape: [300, 1000])
      try file.createDataset("group/ints", int32s: [3, 1, 4, 1, 5], shape: [5])
      try file.createDataset("kernel", floats: [Float](repeating: 0.5, count: 3 * 3 * 4 * 8), shape: [3, 3, 4, 8])
      try file.createDataset("names", strings: ["conv1", "bn"], storage: .fixedBytes)
      try file.createDataset("paths", strings: ["a.jpg", "b.jpg"])
      try file.createDataset("scalar", floats: [1], shape: [])
      try file.createDataset("empty", floats: [], shape: [0])
      let rows = try file.createExtendableDataset("rows", columns: 4, chunkRows: 2)
      try [Float](repeating: 1, count: 12).withUnsafeBufferPointer { try rows.appendRows($0) }
      try file.createExtendableDataset("half", columns: 4, chunkRows: 1, storage: .float16)
      try file.createDataset("part", partsOf: .int32, count: 7).write([Int32]([1, 2, 3]), at: 2)
      try file.createDataset("strings", partsOf: .variableString, count: 2).write(["x", "y"], at: 0)
    }
  }

  func testEveryDatasetButVariableLengthScalarAndEmptyCarriesTheChecksum() throws {
    let path = temporaryPath("kinds.h5")
    try writeEveryKind(path, checksums: true)
    try HDF5File.withFile(path) { file in
      for name in ["matrix", "group/ints", "kernel", "names", "rows", "half", "part"] {
        XCTAssertTrue(try file.openDataset(name).carriesChecksums(), name)
      }
      for name in ["paths", "strings", "scalar", "empty"] {
        XCTAssertFalse(try file.openDataset(name).carriesChecksums(), name)
      }
      // Chunks of whole rows, about 256 KiB: 65 rows of 1000 floats; a kernel's 3 x 4 x 8 rows.
      XCTAssertEqual(try file.openDataset("matrix").chunkShape(), [65, 1000])
      XCTAssertEqual(try file.openDataset("kernel").chunkShape(), [3, 3, 4, 8])
      XCTAssertEqual(try file.openDataset("rows").chunkShape(), [2, 4], "the writer's own chunks are kept")
      XCTAssertEqual(try file.openDataset("matrix").readFloats(), (0..<(300 * 1000)).map { Float($0) })
      XCTAssertEqual(try file.openDataset("part").readInt32s(), [0, 0, 1, 2, 3, 0, 0])
    }
    let old = temporaryPath("kinds-old.h5")
    try writeEveryKind(old, checksums: false)
    try HDF5File.withFile(old) { file in
      for name in ["matrix", "group/ints", "kernel", "names", "rows", "half", "part", "paths"] {
        XCTAssertFalse(try file.openDataset(name).carriesChecksums(), name)
      }
      XCTAssertNil(try file.openDataset("matrix").chunkShape(), "contiguous, as earlier versions wrote it")
    }
  }

  func testAFlippedBitIsAChecksumErrorWhereTheOldLayoutReadsItSilently() throws {
    let path = temporaryPath("flipped.h5")
    try writeEveryKind(path, checksums: true)
    let rows = try flipStoredBit(of: "matrix", in: path, chunk: 2, byte: 4001)
    XCTAssertEqual(rows, 130..<195)
    try flipStoredBit(of: "group/ints", in: path)
    try flipStoredBit(of: "names", in: path, byte: 1)
    try HDF5File.withFile(path) { file in
      let matrix = try file.openDataset("matrix")
      let expected = HDF5ChecksumError(file: path, dataset: "/matrix", rows: 130..<195)
      XCTAssertThrowsError(try matrix.readFloats()) { XCTAssertEqual($0 as? HDF5ChecksumError, expected) }
      XCTAssertEqual(
        "\(expected)", "\(path): /matrix rows 130..<195 fail their checksum (the file is corrupt)")
      var buffer = [Float](repeating: 0, count: 200 * 1000)
      // Rows of other chunks still read; a range that touches the chunk does not.
      try buffer.withUnsafeMutableBufferPointer { try matrix.readRows(0..<130, into: $0) }
      XCTAssertThrowsError(try buffer.withUnsafeMutableBufferPointer { try matrix.readRows(100..<140, into: $0) }) {
        XCTAssertEqual($0 as? HDF5ChecksumError, expected)
      }
      XCTAssertThrowsError(try file.openDataset("group/ints").readInt32s()) {
        XCTAssertEqual("\($0)", "\(path): /group/ints rows 0..<5 fail their checksum (the file is corrupt)")
      }
      XCTAssertThrowsError(try file.openDataset("names").readStrings()) {
        XCTAssertEqual(($0 as? HDF5ChecksumError)?.dataset, "/names")
      }
      XCTAssertEqual(try file.openDataset("kernel").readFloats().count, 288, "undamaged datasets read")
    }

    let old = temporaryPath("flipped-old.h5")
    try writeEveryKind(old, checksums: false)
    try flipStoredBit(of: "matrix", in: old, byte: 4 * 150_000 + 2)
    try HDF5File.withFile(old) { file in
      let values = try file.openDataset("matrix").readFloats()
      let changed = values.indices.filter { values[$0] != Float($0) }
      XCTAssertEqual(changed, [150_000], "the earlier layout reads the damaged value as if it were right")
    }
  }

  func testChecksummedRowBlocksAreVerifiedInPlace() throws {
    let path = temporaryPath("blocks.h5")
    let width = 7
    let values = (0..<(23 * width)).map { Float($0) * 0.25 - 3 }
    try HDF5File.withNewFile(path) { file in
      let chunked = try file.createExtendableDataset("chunked", columns: width, chunkRows: 5)
      try values.withUnsafeBufferPointer { try chunked.appendRows($0) }
    }
    func verify() throws {
      let blocks = try HDF5File.withFile(path) { try XCTUnwrap(try $0.openDataset("chunked").rowBlocks()) }
      XCTAssertEqual(blocks.map(\.checksummedBytes), [Int?](repeating: 5 * width * 4, count: 5))
      try Data(contentsOf: URL(fileURLWithPath: path)).withUnsafeBytes {
        try verifyChecksums(of: blocks, in: $0, fileName: path, dataset: "/chunked")
      }
    }
    try verify()
    // A bit of the last chunk's padding (rows 23 and 24 do not exist) is covered too.
    try flipStoredBit(of: "chunked", in: path, chunk: 4, byte: 4 * width * 4 + 1)
    XCTAssertThrowsError(try verify()) {
      XCTAssertEqual($0 as? HDF5ChecksumError, HDF5ChecksumError(file: path, dataset: "/chunked", rows: 20..<23))
    }
  }
}
