// Writes every supported kind of object and reads it back; checks determinism.
import Foundation
import HDF5
import XCTest

final class RoundTripTests: XCTestCase {
  private func writeSample(_ path: String) throws {
    try HDF5File.withNewFile(path) { file in
      try file.setAttribute("format_version", int: 1)
      try file.setAttribute("backbone", string: "resnet50")
      try file.setAttribute("taps", strings: ["conv5_block3_out", "avg"])
      try file.setAttribute("layer_names", strings: ["conv1", "bn_conv1"], storage: .fixedBytes)
      try file.setAttribute("keras_version", string: "2.2.4", storage: .fixedBytes)
      try file.setAttribute("widths", ints: [2048, 1024])
      try file.setAttribute("empty_ints", ints: [])
      try file.setAttribute("scale", double: 0.5)
      let group = try file.createGroup("a/b")
      try group.setAttribute("note", string: "nested")
      try group.createDataset("x", floats: [1, 2, 3, 4, 5, 6], shape: [2, 3])
      try file.createDataset("ints", int32s: [-1, 5, 9], shape: [3])
      try file.createDataset("paths", strings: ["a/b.jpg", "é.png"])
      try file.createDataset("none", strings: [])
      try file.createDataset("names", strings: ["conv1_W_1:0", "b"], storage: .fixedBytes)
      try file.createDataset("scalar", floats: [3.5], shape: [])
      let rows = try file.createExtendableDataset("rows", columns: 3, chunkRows: 2)
      let first: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
      try first.withUnsafeBufferPointer { try rows.appendRows($0) }
      let second: [Float] = [10, 11, 12]
      try second.withUnsafeBufferPointer { try rows.appendRows($0) }
      try file.setAttribute("complete", int: 0)
      try file.setAttribute("complete", int: 1)  // replaced, as the feature writer does
    }
  }

  func testRoundTrip() throws {
    let path = temporaryPath("roundtrip.h5")
    try writeSample(path)
    try HDF5File.withFile(path) { file in
      XCTAssertEqual(try file.intAttribute("format_version"), 1)
      XCTAssertEqual(try file.stringAttribute("backbone"), "resnet50")
      XCTAssertEqual(try file.stringsAttribute("taps"), ["conv5_block3_out", "avg"])
      XCTAssertEqual(try file.stringsAttribute("layer_names"), ["conv1", "bn_conv1"])
      XCTAssertEqual(try file.attributeElementClass("layer_names"), .string(variable: false))
      XCTAssertEqual(try file.stringAttribute("keras_version"), "2.2.4")
      XCTAssertEqual(try file.intsAttribute("widths"), [2048, 1024])
      XCTAssertEqual(try file.intsAttribute("empty_ints"), [])
      XCTAssertEqual(try file.doubleAttribute("scale"), 0.5)
      XCTAssertEqual(try file.intAttribute("complete"), 1)
      XCTAssertEqual(try file.openGroup("a/b").stringAttribute("note"), "nested")
      let x = try file.openDataset("a/b/x")
      XCTAssertEqual(try x.shape(), [2, 3])
      XCTAssertEqual(try x.readFloats(), [1, 2, 3, 4, 5, 6])
      XCTAssertEqual(try file.openDataset("ints").readInt32s(), [-1, 5, 9])
      XCTAssertEqual(try file.openDataset("paths").readStrings(), ["a/b.jpg", "é.png"])
      XCTAssertEqual(try file.openDataset("none").shape(), [0])
      XCTAssertEqual(try file.openDataset("none").readStrings(), [])
      XCTAssertEqual(try file.openDataset("names").readStrings(), ["conv1_W_1:0", "b"])
      XCTAssertEqual(try file.openDataset("scalar").readFloats(), [3.5])
      let rows = try file.openDataset("rows")
      XCTAssertEqual(try rows.shape(), [4, 3])
      XCTAssertEqual(try rows.chunkShape(), [2, 3])
      XCTAssertEqual(try file.openDataset("ints").chunkShape(), [3], "chunked to carry its checksum")
      XCTAssertEqual(try rows.readFloats(), (1...12).map(Float.init))
      XCTAssertEqual(try file.memberNames(), ["a", "ints", "names", "none", "paths", "rows", "scalar"])
    }
  }

  func testIdenticalContentGivesIdenticalBytes() throws {
    let a = temporaryPath("same-a.h5")
    let b = temporaryPath("same-b.h5")
    try writeSample(a)
    Thread.sleep(forTimeInterval: 1.1)  // a timestamp, if one were stored, would now differ
    try writeSample(b)
    let bytesA = try Data(contentsOf: URL(fileURLWithPath: a))
    let bytesB = try Data(contentsOf: URL(fileURLWithPath: b))
    XCTAssertEqual(bytesA.count, bytesB.count)
    XCTAssertTrue(bytesA == bytesB, "files differ")
  }

  func testAppendRejectsPartialRows() throws {
    let path = temporaryPath("partial.h5")
    try HDF5File.withNewFile(path) { file in
      let rows = try file.createExtendableDataset("rows", columns: 3, chunkRows: 4)
      let values: [Float] = [1, 2]
      XCTAssertThrowsError(try values.withUnsafeBufferPointer { try rows.appendRows($0) }) { error in
        XCTAssertTrue("\(error)".contains("not whole rows"), "\(error)")
      }
    }
  }

  func testBodyErrorStillClosesFile() throws {
    struct Boom: Error {}
    let path = temporaryPath("closed.h5")
    XCTAssertThrowsError(
      try HDF5File.withNewFile(path) { file in
        try file.setAttribute("x", int: 1)
        throw Boom()
      })
    // The file was closed (and flushed), so it opens and holds what was written.
    XCTAssertEqual(try HDF5File.withFile(path) { try $0.intAttribute("x") }, 1)
  }

  func testSingleValueReadersRejectArrays() throws {
    let path = temporaryPath("arrays.h5")
    try HDF5File.withNewFile(path) { file in
      try file.setAttribute("pair", ints: [1, 2])
      try file.setAttribute("names", strings: ["a", "b", "c"])
      let cases: [(String, () throws -> Void)] = [
        ("expected one integer, found 2", { _ = try file.intAttribute("pair") }),
        ("expected one number, found 2", { _ = try file.doubleAttribute("pair") }),
        ("expected one string, found 3", { _ = try file.stringAttribute("names") }),
      ]
      for (message, read) in cases {
        XCTAssertThrowsError(try read()) { error in
          XCTAssertTrue("\(error)".contains(message), "\(error)")
        }
      }
    }
  }
}
