// Our Fletcher-32 against the 4 bytes libhdf5 stores after each chunk it writes, for chunks of
// many sizes (odd byte counts, the last words of a vector block, sums that reach 65535), and the
// vector version against the word-at-a-time reference on every size up to a few blocks.

import Foundation
import ToolTesting
import XCTest

@testable import HDF5

final class FletcherTests: XCTestCase {
  /// Every stored chunk of every dataset in `names`: its values and the checksum libhdf5 stored.
  private func storedChunks(_ path: String, _ names: [String]) throws -> [(name: String, data: Data, stored: UInt32)] {
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    return try HDF5File.withFile(path) { file in
      try names.flatMap { name in
        let chunks = try file.openDataset(name).storedChunks()
        XCTAssertFalse(chunks.isEmpty, name)
        return chunks.map { chunk in
          let end = chunk.fileOffset + chunk.storedBytes
          let stored = bytes[(end - 4)..<end].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }  // little-endian
          return (name, bytes[chunk.fileOffset..<(end - 4)], stored)
        }
      }
    }
  }

  func testOurChecksumIsTheOneLibhdf5Stores() throws {
    let path = temporaryPath("fletcher.h5")
    var generator = SystemRandomNumberGenerator()
    var names: [String] = []
    try HDF5File.withNewFile(path) { file in
      // float32: 4 to 280,000 bytes, the last over one chunk (the padded last chunk included).
      for count in [1, 2, 3, 15, 16, 17, 1000, 2879, 2880, 2881, 5761, 70_000] {
        names.append("floats_\(count)")
        let values = (0..<count).map { _ in Float.random(in: -1e6...1e6, using: &generator) }
        try file.createDataset(names.last!, floats: values, shape: [count])
      }
      // Every byte 0xFF: word sums that are multiples of 65535 (stored as 65535, not 0).
      for count in [1, 8, 2880, 50_000] {
        names.append("ones_\(count)")
        try file.createDataset(names.last!, int32s: [Int32](repeating: -1, count: count), shape: [count])
      }
      names.append("zeros")
      try file.createDataset("zeros", int32s: [Int32](repeating: 0, count: 5), shape: [5])
      // Fixed-length strings: odd byte counts (1 to 3,003 bytes).
      for (count, length) in [(1, 1), (1, 3), (1, 7), (3, 7), (1, 33), (1, 63), (3, 1001)] {
        names.append("strings_\(count)x\(length)")
        let strings = (0..<count).map { _ in
          String((0..<length).map { _ in Character(UnicodeScalar(UInt8.random(in: 0x21...0x7E, using: &generator))) })
        }
        try file.createDataset(names.last!, strings: strings, storage: .fixedBytes)
      }
      // float16 rows appended to an extendable dataset, one row a chunk.
      names.append("half")
      let half = try file.createExtendableDataset("half", columns: 3, chunkRows: 1, storage: .float16)
      try [Float16](repeating: 0.3, count: 9).withUnsafeBufferPointer { try half.appendRows($0) }
    }
    let chunks = try storedChunks(path, names)
    for chunk in chunks {
      chunk.data.withUnsafeBytes { data in
        XCTAssertEqual(fletcher32(data), chunk.stored, "\(chunk.name), \(data.count) bytes")
        XCTAssertEqual(fletcher32Reference(data), chunk.stored, "\(chunk.name), \(data.count) bytes (reference)")
      }
    }
    print("\(chunks.count) chunks of \(names.count) datasets, \(Set(chunks.map(\.data.count)).count) sizes")
  }

  func testVectorEqualsReferenceOnEverySize() {
    var generator = SystemRandomNumberGenerator()
    let sizes = Array(0...700) + [11_519, 11_520, 11_521, 23_041, 100_003, 1_000_000]
    let patterns: [(String, (Int) -> UInt8)] = [
      ("random", { _ in UInt8.random(in: 0...255, using: &generator) }),
      ("0xFF", { _ in 0xFF }),
      ("zeros", { _ in 0 }),
      ("0xFF but one zero", { $0 == 5 ? 0 : 0xFF }),
    ]
    var compared = 0
    for (name, pattern) in patterns {
      for size in sizes {
        let bytes = (0..<size).map(pattern)
        bytes.withUnsafeBytes { data in
          XCTAssertEqual(fletcher32(data), fletcher32Reference(data), "\(name), \(size) bytes")
        }
        compared += 1
      }
    }
    print("\(compared) buffers compared")
  }

  /// Not a pass/fail figure: what verifying a mapped feature file costs (the HDF5 module is built
  /// optimised in debug builds too).
  func testThroughput() {
    let bytes = [UInt8](repeating: 0x5A, count: 64 << 20)
    var best = Double.infinity
    var sum: UInt32 = 0
    for _ in 0..<3 {
      let start = Date()
      sum ^= bytes.withUnsafeBytes(fletcher32)
      best = min(best, Date().timeIntervalSince(start))
    }
    print(String(format: "fletcher32: %.1f GB/s (64 MiB in %.1f ms, checksum %08x)", 0.0671 / best, best * 1000, sum))
  }

  func testStoredChecksumsMatchAndFlippedBitsDoNot() {
    let bytes: [UInt8] = (0..<1001).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    let sum = bytes.withUnsafeBytes(fletcher32)
    func chunk(_ checksum: UInt32, flip: Int? = nil) -> Bool {
      var stored = bytes + withUnsafeBytes(of: checksum.littleEndian, Array.init)
      if let flip { stored[flip] ^= 0x10 }
      return stored.withUnsafeBytes(chunkChecksumMatches)
    }
    XCTAssertTrue(chunk(sum))
    // What libhdf5 also accepts: each 16-bit half with its bytes swapped.
    XCTAssertTrue(chunk((sum & 0x00FF_00FF) << 8 | (sum & 0xFF00_FF00) >> 8))
    XCTAssertFalse(chunk(sum.byteSwapped), "all four bytes reversed")
    XCTAssertFalse(chunk(sum, flip: 0))
    XCTAssertFalse(chunk(sum, flip: 1000), "the odd last byte")
    XCTAssertFalse(chunk(sum, flip: 1002), "the checksum itself")
  }
}
