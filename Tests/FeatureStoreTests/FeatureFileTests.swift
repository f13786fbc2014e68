// The feature file: written in pieces, read back whole, byte-identical across runs, and
// checked against the schema with the plain HDF5 wrapper (what h5py would see).
import FeatureStore
import Foundation
import HDF5
import ToolTesting
import XCTest

private func scratchPath(_ name: String) -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("featurestore-\(getpid())")
  try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  return dir.appendingPathComponent(name).path
}

final class FeatureFileTests: XCTestCase {
  let attributes = FeatureFileAttributes(
    backbone: "resnet50", weightsFile: "weights/resnet50_notop.h5",
    weightsSHA256: String(repeating: "ab", count: 32), height: 224, width: 224, interpolation: "nearest",
    exif: "ignored", taps: ["conv4_block6_out", "avg_pool"], tapWidths: [3, 2], toolVersion: "0.1.0")

  /// Five rows of width 5 written in two appends, values i * 0.5 - 3.
  let rows = (0..<25).map { Float($0) * 0.5 - 3 }
  let paths = ["cats/a.jpg", "cats/b.jpg", "dogs/c.png", "dogs/d.jpg", "élan/e.jpg"]
  let labels: [LabelColumn] = [
    .categorical(name: "class", classes: ["cats", "dogs", "élan"], indices: [0, 0, 1, 1, -1]),
    .numeric(name: "score", values: [0.5, .nan, -1, 2, 3.25]),
  ]

  private func writeSample(_ path: String, warning: String? = nil) throws {
    var attributes = attributes
    attributes.warning = warning
    let writer = try FeatureFileWriter(path: path, attributes: attributes, dimension: 5)
    try rows[0..<10].withUnsafeBufferPointer { try writer.appendRows($0) }
    try rows[10...].withUnsafeBufferPointer { try writer.appendRows($0) }
    XCTAssertEqual(writer.rowCount, 5)
    try writer.finish(
      paths: paths, labels: labels, failedPaths: ["broken.jpg"], failedReasons: ["not a JPEG or PNG"])
  }

  func testWriteThenRead() throws {
    let path = scratchPath("sample.h5")
    try writeSample(path, warning: "random weights: features are meaningless")
    let file = try FeatureFile.read(path: path)
    XCTAssertTrue(file.complete)
    XCTAssertEqual(file.dimension, 5)
    XCTAssertEqual(file.rowCount, 5)
    XCTAssertEqual(file.features, rows)
    XCTAssertEqual(file.paths, paths)
    XCTAssertEqual(file.labels, labels)
    XCTAssertEqual(file.failedPaths, ["broken.jpg"])
    XCTAssertEqual(file.failedReasons, ["not a JPEG or PNG"])
    var expected = attributes
    expected.warning = "random weights: features are meaningless"
    XCTAssertEqual(file.attributes, expected)
  }

  /// A file of several chunks (about 1 MiB each, the last one partial): every mapped row is the
  /// row the whole read gives.
  func testMappedRowsAreTheStoredRows() throws {
    let path = scratchPath("mapped.h5")
    let (count, width) = (2_000, 300)
    let values = (0..<(count * width)).map { Float(($0 * 7) % 1_001) / 1_000 - 0.5 }
    var attributes = attributes
    attributes.taps = ["avg_pool"]
    attributes.tapWidths = [width]
    let writer = try FeatureFileWriter(path: path, attributes: attributes, dimension: width)
    try values[..<(width * 700)].withUnsafeBufferPointer { try writer.appendRows($0) }
    try values[(width * 700)...].withUnsafeBufferPointer { try writer.appendRows($0) }
    try writer.finish(
      paths: (0..<count).map { "img/\($0).jpg" }, labels: [], failedPaths: [], failedReasons: [])
    let whole = try FeatureFile.read(path: path).features
    for threads in [1, 2, 5] {
      let mapped = try XCTUnwrap(try MappedFeatureRows(path: path, threads: threads))
      XCTAssertEqual(mapped.rowCount, count)
      XCTAssertEqual(mapped.dimension, width)
      for r in 0..<count {
        XCTAssertEqual(
          Array(UnsafeBufferPointer(start: mapped.row(r), count: width)), Array(whole[(r * width)..<((r + 1) * width)]))
      }
    }
  }

  /// A flipped bit in the mapped rows is found when the file is mapped, before any row is used;
  /// a file of the earlier layout (no checksums) maps as before, the damaged value included.
  func testMappedRowsAreVerifiedAndOldFilesMapAsBefore() throws {
    let (count, width) = (2_000, 300)  // chunks of 873 rows
    let values = (0..<(count * width)).map { Float(($0 * 7) % 1_001) / 1_000 - 0.5 }
    var attributes = attributes
    attributes.taps = ["avg_pool"]
    attributes.tapWidths = [width]
    for checksums in [true, false] {
      let path = scratchPath("flipped-\(checksums).h5")
      let writer = try FeatureFileWriter(path: path, attributes: attributes, dimension: width, checksums: checksums)
      try values.withUnsafeBufferPointer { try writer.appendRows($0) }
      try writer.finish(paths: (0..<count).map { "img/\($0).jpg" }, labels: [], failedPaths: [], failedReasons: [])
      let rows = try flipStoredBit(of: "features", in: path, chunk: 1, byte: 4 * width * 10 + 2)
      XCTAssertEqual(rows, 873..<1746)
      if checksums {
        // Verified on one thread or shared out (the chunks in runs, one per thread), and with a
        // second damaged chunk after it: the first damaged chunk is the one reported.
        for second in [false, true] {
          if second { XCTAssertEqual(try flipStoredBit(of: "features", in: path, chunk: 2, byte: 5), 1746..<2000) }
          for threads in [1, 2, 3] {
            XCTAssertThrowsError(try MappedFeatureRows(path: path, threads: threads)) {
              XCTAssertEqual("\($0)", "\(path): /features rows 873..<1746 fail their checksum (the file is corrupt)")
            }
          }
        }
        XCTAssertThrowsError(try FeatureFile.read(path: path)) {
          XCTAssertEqual($0 as? HDF5ChecksumError, HDF5ChecksumError(file: path, dataset: "/features", rows: rows))
        }
      } else {
        let mapped = try XCTUnwrap(try MappedFeatureRows(path: path))
        let damaged = 883 * width
        XCTAssertNotEqual(mapped.row(883)[0], values[damaged], "read as if it were right")
        XCTAssertEqual(mapped.row(883)[1], values[damaged + 1])
      }
    }
  }

  func testSchemaAsAPlainHDF5ReaderSeesIt() throws {
    let path = scratchPath("schema.h5")
    try writeSample(path)
    try HDF5File.withFile(path) { file in
      XCTAssertEqual(try file.memberNames(), ["failed", "features", "labels", "paths"])
      let features = try file.openDataset("features")
      XCTAssertEqual(try features.elementClass(), .float(bytes: 4))
      XCTAssertEqual(try features.shape(), [5, 5])
      XCTAssertEqual(try features.chunkShape(), [52428, 5])  // 1 MiB / (4 bytes x 5)
      XCTAssertEqual(try file.openDataset("paths").elementClass(), .string(variable: true))
      XCTAssertEqual(try file.openDataset("labels/class").elementClass(), .integer(bytes: 4, signed: true))
      XCTAssertEqual(
        try file.openDataset("labels/class").stringsAttribute("classes"), ["cats", "dogs", "élan"])
      XCTAssertEqual(try file.openDataset("labels/score").elementClass(), .float(bytes: 4))
      XCTAssertEqual(try file.intAttribute("format_version"), 1)
      XCTAssertEqual(try file.intAttribute("complete"), 1)
      XCTAssertEqual(try file.stringAttribute("preprocessing"), "caffe")
      XCTAssertEqual(try file.stringAttribute("normalization"), "l2 per tap")
      XCTAssertEqual(try file.intsAttribute("tap_widths"), [3, 2])
      XCTAssertFalse(try file.hasAttribute("warning"))
    }
  }

  func testIdenticalContentGivesIdenticalBytes() throws {
    let a = scratchPath("same-a.h5")
    let b = scratchPath("same-b.h5")
    try writeSample(a)
    Thread.sleep(forTimeInterval: 1.1)
    try writeSample(b)
    let bytesA = try Data(contentsOf: URL(fileURLWithPath: a))
    let bytesB = try Data(contentsOf: URL(fileURLWithPath: b))
    XCTAssertTrue(bytesA == bytesB, "\(bytesA.count) and \(bytesB.count) bytes differ")
  }

  func testExpectedRowsKeepsSmallFilesSmall() throws {
    let path = scratchPath("small.h5")
    let writer = try FeatureFileWriter(path: path, attributes: attributes, dimension: 5, expectedRows: 5)
    try rows.withUnsafeBufferPointer { try writer.appendRows($0) }
    try writer.finish(paths: paths, labels: labels, failedPaths: [], failedReasons: [])
    try HDF5File.withFile(path) { XCTAssertEqual(try $0.openDataset("features").chunkShape(), [5, 5]) }
    let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
    XCTAssertLessThan(size, 64 * 1024)
    XCTAssertEqual(try FeatureFile.read(path: path).features, rows)
  }

  func testEmptyAndInterruptedFiles() throws {
    let empty = scratchPath("empty.h5")
    let writer = try FeatureFileWriter(path: empty, attributes: attributes, dimension: 5)
    try writer.finish(paths: [], labels: [], failedPaths: [], failedReasons: [])
    let read = try FeatureFile.read(path: empty)
    XCTAssertTrue(read.complete)
    XCTAssertEqual(read.rowCount, 0)
    XCTAssertEqual(read.dimension, 5)
    XCTAssertEqual(read.failedPaths, [])

    let interrupted = scratchPath("interrupted.h5")
    do {
      let writer = try FeatureFileWriter(path: interrupted, attributes: attributes, dimension: 5)
      try rows[0..<10].withUnsafeBufferPointer { try writer.appendRows($0) }
      try writer.flush()
    }  // dropped without finish, as when the process is stopped
    let partial = try FeatureFile.read(path: interrupted)
    XCTAssertFalse(partial.complete)
    XCTAssertEqual(partial.rowCount, 2)
    XCTAssertEqual(partial.paths, [])
  }

  func testWriterRejectsInconsistentInput() throws {
    let path = scratchPath("bad.h5")
    XCTAssertThrowsError(try FeatureFileWriter(path: path, attributes: attributes, dimension: 6)) { error in
      XCTAssertTrue("\(error)".contains("do not add up"), "\(error)")
    }
    let writer = try FeatureFileWriter(path: path, attributes: attributes, dimension: 5)
    XCTAssertThrowsError(try rows[0..<7].withUnsafeBufferPointer { try writer.appendRows($0) }) { error in
      XCTAssertTrue("\(error)".contains("not whole rows"), "\(error)")
    }
    try rows[0..<10].withUnsafeBufferPointer { try writer.appendRows($0) }
    XCTAssertThrowsError(try writer.finish(paths: ["a"], labels: [], failedPaths: [], failedReasons: [])) {
      XCTAssertTrue("\($0)".contains("1 paths for 2 feature rows"), "\($0)")
    }
    let badIndex = LabelColumn.categorical(name: "c", classes: ["x"], indices: [0, 1])
    XCTAssertThrowsError(
      try writer.finish(paths: ["a", "b"], labels: [badIndex], failedPaths: [], failedReasons: [])
    ) { XCTAssertTrue("\($0)".contains("class index 1"), "\($0)") }
    let short = LabelColumn.numeric(name: "n", values: [1])
    XCTAssertThrowsError(
      try writer.finish(paths: ["a", "b"], labels: [short], failedPaths: [], failedReasons: [])
    ) {
      XCTAssertTrue("\($0)".contains("1 values for 2 rows"), "\($0)")
    }
    XCTAssertThrowsError(
      try writer.finish(paths: ["a", "b"], labels: [], failedPaths: ["x"], failedReasons: [])
    ) {
      XCTAssertTrue("\($0)".contains("1 failed paths but 0 reasons"), "\($0)")
    }
    try writer.finish(paths: ["a", "b"], labels: [], failedPaths: [], failedReasons: [])
    XCTAssertThrowsError(
      try writer.finish(paths: ["a", "b"], labels: [], failedPaths: [], failedReasons: [])
    ) {
      XCTAssertTrue("\($0)".contains("already finished"), "\($0)")
    }
  }

  func testReadingSomethingElseSaysSo() throws {
    let notHDF5 = scratchPath("text.h5")
    try "hello".write(toFile: notHDF5, atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try FeatureFile.read(path: notHDF5)) { error in
      XCTAssertTrue("\(error)".contains("text.h5") && "\(error)".contains("not an HDF5 file"), "\(error)")
    }
    let otherHDF5 = scratchPath("other.h5")
    try HDF5File.withNewFile(otherHDF5) { try $0.setAttribute("x", int: 1) }
    XCTAssertThrowsError(try FeatureFile.read(path: otherHDF5)) { error in
      XCTAssertTrue("\(error)".contains("not a Headstart feature file"), "\(error)")
    }
  }
}
