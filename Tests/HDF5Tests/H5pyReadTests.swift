// Reads a file written by plain h5py (Tests/Fixtures/weights/make_weight_fixtures.py), so the
// wrapper is checked against another writer, not only against itself.
import HDF5
import XCTest

final class H5pyReadTests: XCTestCase {
  func testNumericDatasetsConvertToFloat() throws {
    try HDF5File.withFile(fixture("h5py_types.h5")) { file in
      let f16 = try file.openDataset("f16")
      XCTAssertEqual(try f16.elementClass(), .float(bytes: 2))
      XCTAssertEqual(try f16.shape(), [2, 3])
      XCTAssertEqual(try f16.readFloats(), [0.5, -1.25, 3.0, 65504.0, 0.0, Float(Float16(1e-3))])

      let f32 = try file.openDataset("f32")
      XCTAssertEqual(try f32.shape(), [2, 3, 4])
      let expected = (0..<24).map { Float($0) * Float(0.01) + Float(-0.5) }
      XCTAssertEqual(try f32.readFloats(), expected)

      XCTAssertEqual(try file.openDataset("f64").readFloats(), [Float(1.0 / 3.0), -2.5, 1e30])
      XCTAssertEqual(try file.openDataset("f64").readDoubles(), [1.0 / 3.0, -2.5, 1e30])
      XCTAssertEqual(try file.openDataset("i32").readInt32s(), [-1, 0, 7, Int32.max])
      XCTAssertEqual(try file.openDataset("i64").readFloats(), [1, 2, 3, -4])
      let scalar = try file.openDataset("scalar")
      XCTAssertEqual(try scalar.shape(), [])
      XCTAssertEqual(try scalar.readFloats(), [42.5])
      let chunked = try file.openDataset("outer/inner/chunked")
      XCTAssertEqual(try chunked.chunkShape(), [2, 3])
      XCTAssertEqual(try chunked.readFloats(), (0..<15).map { Float($0) * Float(0.01) + 1 })
    }
  }

  func testStringDatasets() throws {
    try HDF5File.withFile(fixture("h5py_types.h5")) { file in
      XCTAssertEqual(try file.openDataset("vstrings").elementClass(), .string(variable: true))
      XCTAssertEqual(try file.openDataset("vstrings").readStrings(), ["alpha", "βeta", ""])
      XCTAssertEqual(try file.openDataset("fstrings").elementClass(), .string(variable: false))
      XCTAssertEqual(try file.openDataset("fstrings").readStrings(), ["conv1", "bn_conv1", "x"])
      XCTAssertEqual(try file.openDataset("empty_strings").readStrings(), [])
    }
  }

  func testAttributes() throws {
    try HDF5File.withFile(fixture("h5py_types.h5")) { file in
      XCTAssertEqual(try file.stringAttribute("vstring"), "héllo")
      XCTAssertEqual(try file.stringAttribute("fstring"), "2.2.4")
      XCTAssertEqual(try file.stringsAttribute("fstrings"), ["a", "bb", "ccc"])
      XCTAssertEqual(try file.stringsAttribute("vstrings"), ["x", "yy"])
      XCTAssertEqual(try file.intAttribute("int"), 7)
      XCTAssertEqual(try file.intsAttribute("ints"), [224, 224, 3])
      XCTAssertEqual(try file.intsAttribute("int32s"), [1, -2])
      XCTAssertEqual(try file.doubleAttribute("double"), 0.25)
      XCTAssertEqual(try file.stringsAttribute("empty"), [])
      XCTAssertEqual(try file.openDataset("f32").stringAttribute("units"), "metres")
      XCTAssertTrue(try file.hasAttribute("int"))
      XCTAssertFalse(try file.hasAttribute("nope"))
      XCTAssertEqual(
        try file.attributeNames(),
        ["double", "empty", "fstring", "fstrings", "int", "int32s", "ints", "vstring", "vstrings"])
    }
  }

  func testGroupsListAndLookUp() throws {
    try HDF5File.withFile(fixture("h5py_types.h5")) { file in
      XCTAssertEqual(
        try file.memberNames(),
        ["empty_strings", "f16", "f32", "f64", "fstrings", "i32", "i64", "outer", "scalar", "vstrings"])
      XCTAssertEqual(try file.openGroup("outer").memberNames(), ["a_first", "b_second", "inner"])
      XCTAssertEqual(try file.memberKind("outer"), .group)
      XCTAssertEqual(try file.memberKind("f16"), .dataset)
      XCTAssertTrue(try file.exists("outer/inner/chunked"))
      XCTAssertFalse(try file.exists("outer/missing/chunked"))
      XCTAssertFalse(try file.exists("nothing"))
    }
  }

  func testErrorsNameFileObjectAndOperation() throws {
    try HDF5File.withFile(fixture("h5py_types.h5")) { file in
      XCTAssertThrowsError(try file.openDataset("missing")) { error in
        let message = "\(error)"
        XCTAssertTrue(message.contains("open dataset"), message)
        XCTAssertTrue(message.contains("h5py_types.h5:/missing"), message)
      }
      XCTAssertThrowsError(try file.openDataset("vstrings").readFloats()) { error in
        XCTAssertTrue("\(error)".contains("not numeric"), "\(error)")
      }
      XCTAssertThrowsError(try file.stringAttribute("int")) { error in
        XCTAssertTrue("\(error)".contains("attribute int"), "\(error)")
      }
    }
    XCTAssertThrowsError(try HDF5File.open(path: fixture("tiny_values.json"))) { error in
      XCTAssertTrue("\(error)".contains("not an HDF5 file"), "\(error)")
    }
    XCTAssertThrowsError(try HDF5File.open(path: fixture("no-such-file.h5"))) { error in
      XCTAssertTrue("\(error)".contains("no-such-file.h5"), "\(error)")
    }
  }
}
