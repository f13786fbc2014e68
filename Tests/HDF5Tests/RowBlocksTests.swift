// HDF5Dataset.rowBlocks: where each row of a 2-D float32 dataset sits in the file, so readers
// can map the file and use the rows in place; checked against the file's bytes, and nil for
// every storage whose bytes are not the values in memory.

import Foundation
import HDF5
import XCTest

final class RowBlocksTests: XCTestCase {
  /// The rows of `dataset` in `path` read from the file's bytes at the offsets rowBlocks gives.
  private func rowsFromBytes(_ path: String, _ blocks: [HDF5RowBlock], width: Int) throws -> [Float] {
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    var rows: [Float] = []
    for block in blocks {
      for i in 0..<(block.rowCount * width) {
        let offset = block.fileOffset + i * 4
        rows.append(
          Float(bitPattern: bytes[offset..<(offset + 4)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }))
      }
    }
    return rows
  }

  func testChunkedAndContiguousRowsAreFoundInTheFile() throws {
    // With checksums (every file Headstart writes) "contiguous" is chunked too; without (the
    // layout of earlier versions) it is stored contiguously.
    for checksums in [true, false] {
      let path = temporaryPath("rowblocks-\(checksums).h5")
      let width = 7
      let values = (0..<(23 * width)).map { Float($0) * 0.25 - 3 }
      try HDF5File.withNewFile(path, checksums: checksums) { file in
        // Chunks of 5 rows, the last one partial, appended in three pieces.
        let chunked = try file.createExtendableDataset("chunked", columns: width, chunkRows: 5)
        try values[..<(4 * width)].withUnsafeBufferPointer { try chunked.appendRows($0) }
        try values[(4 * width)..<(17 * width)].withUnsafeBufferPointer { try chunked.appendRows($0) }
        try values[(17 * width)...].withUnsafeBufferPointer { try chunked.appendRows($0) }
        try file.createDataset("contiguous", floats: values, shape: [23, width])
        try file.createDataset("flat", floats: values, shape: [values.count])
        try file.createDataset("integers", int32s: values.map { Int32($0) }, shape: [23, width])
        let half = try file.createExtendableDataset("half", columns: width, chunkRows: 5, storage: .float16)
        try values.map { Float16($0) }.withUnsafeBufferPointer { try half.appendRows($0) }
      }
      try HDF5File.withFile(path) { file in
        let chunked = try XCTUnwrap(try file.openDataset("chunked").rowBlocks())
        XCTAssertEqual(chunked.map(\.firstRow), [0, 5, 10, 15, 20])
        XCTAssertEqual(chunked.map(\.rowCount), [5, 5, 5, 5, 3])
        XCTAssertEqual(chunked.map { $0.checksummedBytes != nil }, [Bool](repeating: checksums, count: 5))
        XCTAssertEqual(try rowsFromBytes(path, chunked, width: width), values)
        let contiguous = try XCTUnwrap(try file.openDataset("contiguous").rowBlocks())
        XCTAssertEqual(contiguous.count, 1)
        XCTAssertEqual(try rowsFromBytes(path, contiguous, width: width), values)
        XCTAssertNil(try file.openDataset("flat").rowBlocks(), "1-D")
        XCTAssertNil(try file.openDataset("integers").rowBlocks(), "int32")
        XCTAssertNil(try file.openDataset("half").rowBlocks(), "float16")
      }
    }
  }
}
