import Foundation
import ToolTesting
import XCTest

@testable import Extraction

final class JournalTests: XCTestCase {
  private var path: String!

  override func setUp() {
    path = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)").path
  }

  override func tearDown() { unlink(path) }

  private let settings = Data("{\"a\":1}".utf8)

  private func appendBatch(_ journal: Journal, _ batch: Int, failed: Bool = false) throws {
    let entries = [
      JournalEntry(failure: nil, exifOrientation: 6),
      JournalEntry(failure: failed ? "truncated JPEG" : nil, exifOrientation: 1),
    ]
    let rows = entries.filter { $0.failure == nil }.count
    let features = (0..<(rows * 3)).map { Float(batch * 100 + $0) + 0.25 }
    try features.withUnsafeBufferPointer {
      try journal.append(batch: batch, entries: entries, features: $0, dimension: 3)
    }
  }

  func testRecordsSurviveReopeningAndReadBackExactly() throws {
    do {
      let journal = try Journal(path: path, settings: settings)
      try appendBatch(journal, 0)
      try appendBatch(journal, 1, failed: true)
    }
    let reopened = try Journal(path: path, settings: settings)
    XCTAssertEqual(Set(reopened.recordOffsets.keys), [0, 1])
    let record = try reopened.record(batch: 1)
    XCTAssertEqual(record.entries.map(\.failure), [nil, "truncated JPEG"])
    XCTAssertEqual(record.entries.map(\.exifOrientation), [6, 1])
    XCTAssertEqual(record.features, [100.25, 101.25, 102.25])
  }

  /// A crash mid-write leaves a torn last record: it is cut off, the earlier ones are kept, and
  /// appending continues cleanly after them.
  func testTornRecordIsDroppedAtEveryCutPoint() throws {
    do {
      let journal = try Journal(path: path, settings: settings)
      try appendBatch(journal, 0)
      try appendBatch(journal, 1)
    }
    let whole = try Data(contentsOf: URL(fileURLWithPath: path))
    let firstEnd = try {
      let journal = try Journal(path: path, settings: settings)
      return journal.recordOffsets[1]!
    }()
    for cut in stride(from: firstEnd + 1, to: whole.count, by: 7) {
      try whole.prefix(cut).write(to: URL(fileURLWithPath: path))
      let journal = try Journal(path: path, settings: settings)
      XCTAssertEqual(Set(journal.recordOffsets.keys), [0], "cut at \(cut)")
      try appendBatch(journal, 1)
      let again = try Journal(path: path, settings: settings)
      XCTAssertEqual(try again.record(batch: 1).features, [100.25, 101.25, 102.25, 103.25, 104.25, 105.25])
    }
  }

  func testOtherSettingsAreRefused() throws {
    _ = try Journal(path: path, settings: settings)
    XCTAssertThrowsError(try Journal(path: path, settings: Data("{\"a\":2}".utf8))) {
      XCTAssertEqual(($0 as? JournalMismatch)?.storedSettings, self.settings)
    }
  }

  func testSettingsDifferenceNamesTheFlag() {
    let stored = ExtractSettings(
      images: "/d", dataset: "3 files", labels: "folders", backbone: "resnet50", weights: "random",
      weightsSHA256: "", size: "224x224", interpolation: "nearest", exif: "ignore", taps: ["conv5_block3_out"],
      maxPixels: 1, batchSize: 16)
    var now = stored
    now.size = "160x224"
    XCTAssertEqual(
      now.firstDifference(from: stored), "--size was 224x224 in the unfinished run, this run asks for 160x224")
  }
}
