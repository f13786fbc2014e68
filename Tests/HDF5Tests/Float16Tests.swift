// float16 datasets: Headstart writes them with the type h5py builds for numpy float16, reads
// h5py's own, and copies the bits both ways (no rounding inside HDF5).

import Foundation
import HDF5
import XCTest

final class Float16Tests: XCTestCase {
  /// Exact halves, the largest finite value, the smallest subnormal, a rounded 0.1, -0 and
  /// infinity (as in make_h5py_float16.py).
  private let values: [Float16] = [
    1, -2.5, 65504, Float16(bitPattern: 1), Float16(Float(0.1)), -0.0, .infinity, 3.140625, 1e-3, -1e4, 0.5,
    2048.5,
  ]

  func testWritesAndReadsBackTheSameBits() throws {
    let path = temporaryPath("float16.h5")
    try HDF5File.withNewFile(path) { file in
      let half = try file.createExtendableDataset("half", columns: 4, chunkRows: 1, storage: .float16)
      try Array(values[..<8]).withUnsafeBufferPointer { try half.appendRows($0) }
      try Array(values[8...]).withUnsafeBufferPointer { try half.appendRows($0) }
      // Float16 rows into a float32 dataset widen exactly.
      let wide = try file.createExtendableDataset("wide", columns: 4, chunkRows: 1)
      try values.withUnsafeBufferPointer { try wide.appendRows($0) }
    }
    print("float16 file for a look with h5py: \(path)")
    try HDF5File.withFile(path) { file in
      let half = try file.openDataset("half")
      XCTAssertEqual(try half.elementClass(), .float(bytes: 2))
      XCTAssertEqual(try half.shape(), [3, 4])
      var back = [Float16](repeating: 0, count: 8)
      try back.withUnsafeMutableBufferPointer { try half.readRows(1..<3, into: $0) }
      XCTAssertEqual(back.map(\.bitPattern), values[4...].map(\.bitPattern))
      // Read as float32, HDF5 widens (exact for every binary16 value).
      XCTAssertEqual(try half.readFloats().map(\.bitPattern), values.map { Float($0).bitPattern })
      XCTAssertEqual(try file.openDataset("wide").readFloats().map(\.bitPattern), values.map { Float($0).bitPattern })
    }
  }

  func testReadsH5pyFloat16() throws {
    try HDF5File.withFile(fixture("h5py_float16.h5")) { file in
      let half = try file.openDataset("half")
      XCTAssertEqual(try half.elementClass(), .float(bytes: 2))
      let bits = try file.openDataset("bits").readInt32s().map { UInt16($0) }
      var read = [Float16](repeating: 0, count: 12)
      try read.withUnsafeMutableBufferPointer { try half.readRows(0..<3, into: $0) }
      XCTAssertEqual(read.map(\.bitPattern), bits)
      XCTAssertEqual(read.map(\.bitPattern), values.map(\.bitPattern), "h5py's float16 equal Swift's Float16")
      XCTAssertEqual(try half.readFloats(), read.map { Float($0) })
    }
  }

  func testAppendRefusesPartialRows() throws {
    let path = temporaryPath("float16-partial.h5")
    try HDF5File.withNewFile(path) { file in
      let half = try file.createExtendableDataset("half", columns: 4, chunkRows: 1, storage: .float16)
      let three: [Float16] = [1, 2, 3]
      XCTAssertThrowsError(try three.withUnsafeBufferPointer { try half.appendRows($0) })
    }
  }
}
