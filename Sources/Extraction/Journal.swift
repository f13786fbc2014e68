// The resume journal: why a night of extraction is never lost.
//
// HDF5 files are not safe against `kill -9` or a power cut mid-write, so extraction does not
// write the feature file until the end. Each finished batch is appended to `<output>.partial`
// as one checksummed record and fsync'd. A rerun reads the valid records (a torn last record is
// cut off), skips those batches, and the feature file is assembled from the journal at the end,
// written under a temporary name and renamed into place, so the output path only ever holds a
// complete file.
//
// Layout (little-endian):
//   header  "HSJ1" | u32 n | n bytes of settings JSON | u32 crc32(JSON)
//   record  "HSB1" | u32 batch | u32 entries | u32 dim | entries x entry | okRows x dim f32 | u32 crc32
//   entry   u8 status (0 ok, 1 failed) | u8 EXIF orientation | u32 n | n bytes of failure reason
// The record's CRC covers everything between the magic and the CRC.

import Foundation
import Support

/// The outcome for one image of a batch.
public struct JournalEntry: Equatable, Sendable {
  public var failure: String?
  public var exifOrientation: UInt8
  public init(failure: String?, exifOrientation: UInt8) {
    self.failure = failure
    self.exifOrientation = exifOrientation
  }
}

/// One finished batch: its entries in dataset order and the features of its usable images.
public struct JournalRecord: Equatable, Sendable {
  public var batch: Int
  public var entries: [JournalEntry]
  /// (usable images, dimension), row-major.
  public var features: [Float]
}

/// An append-only, checksummed file of finished batches.
final class Journal {
  let path: String
  private let descriptor: Int32
  /// Where each finished batch's record starts, by batch index; features are
  /// read back only when the feature file is assembled.
  private(set) var recordOffsets: [Int: Int] = [:]
  private(set) var entriesByBatch: [Int: [JournalEntry]] = [:]

  private static let headerMagic = Array("HSJ1".utf8)
  private static let recordMagic = Array("HSB1".utf8)

  /// Opens an existing journal (returning its settings) or creates one with `settings`.
  /// A journal whose header is unreadable is replaced: it holds no finished batch.
  init(path: String, settings: Data) throws {
    self.path = path
    descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw ExtractError.usage("cannot write \(path): \(String(cString: strerror(errno)))")
    }
    // Read through a second descriptor, a record at a time: a journal can be gigabytes.
    let reader = FileHandle(forReadingAtPath: path)
    defer { try? reader?.close() }
    if let reader, let (stored, headerEnd) = Journal.readHeader(reader) {
      guard stored == settings else {
        close(descriptor)
        throw JournalMismatch(storedSettings: stored)
      }
      var offset = headerEnd
      while let (record, end) = Journal.readRecord(reader, at: offset, decodeFeatures: false) {
        recordOffsets[record.batch] = offset
        entriesByBatch[record.batch] = record.entries
        offset = end
      }
      // Cut off a torn or corrupt tail so new records follow the last valid one.
      if lseek(descriptor, 0, SEEK_END) > off_t(offset) { _ = ftruncate(descriptor, off_t(offset)) }
    } else {
      _ = ftruncate(descriptor, 0)
      var header = Journal.headerMagic
      header.appendLE(UInt32(settings.count))
      header.append(contentsOf: settings)
      header.appendLE(CRC32.checksum(settings))
      try append(header)
    }
  }

  deinit { close(descriptor) }

  /// Appends one finished batch durably (written and fsync'd before returning).
  func append(batch: Int, entries: [JournalEntry], features: UnsafeBufferPointer<Float>, dimension: Int) throws {
    precondition(features.count == entries.filter { $0.failure == nil }.count * dimension)
    var body: [UInt8] = []
    body.reserveCapacity(16 + entries.count * 8 + features.count * 4)
    body.appendLE(UInt32(batch))
    body.appendLE(UInt32(entries.count))
    body.appendLE(UInt32(dimension))
    for entry in entries {
      body.append(entry.failure == nil ? 0 : 1)
      body.append(entry.exifOrientation)
      let reason = Array((entry.failure ?? "").utf8)
      body.appendLE(UInt32(reason.count))
      body.append(contentsOf: reason)
    }
    for value in features { body.appendLE(value.bitPattern) }
    let offset = Int(lseek(descriptor, 0, SEEK_END))
    var record = Journal.recordMagic
    record.append(contentsOf: body)
    record.appendLE(CRC32.checksum(body))
    try append(record)
    recordOffsets[batch] = offset
    entriesByBatch[batch] = entries
  }

  /// Reads one finished batch back.
  func record(batch: Int) throws -> JournalRecord {
    guard let offset = recordOffsets[batch], let reader = FileHandle(forReadingAtPath: path),
      let (record, _) = Journal.readRecord(reader, at: offset, decodeFeatures: true)
    else { throw ExtractError.runtime("\(path): the record of batch \(batch) can no longer be read") }
    try? reader.close()
    return record
  }

  /// Removes the journal file (after the feature file is in place).
  func remove() { unlink(path) }

  private func append(_ bytes: [UInt8]) throws {
    var written = 0
    try bytes.withUnsafeBytes { raw in
      while written < raw.count {
        let n = write(descriptor, raw.baseAddress! + written, raw.count - written)
        if n < 0 {
          if errno == EINTR { continue }
          throw ExtractError.runtime("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        written += n
      }
    }
    guard fsync(descriptor) == 0 else {
      throw ExtractError.runtime("cannot sync \(path): \(String(cString: strerror(errno)))")
    }
  }

  private static func readHeader(_ reader: FileHandle) -> (settings: Data, end: Int)? {
    guard let start = try? reader.read(upToCount: 8), start.count == 8, Array(start.prefix(4)) == headerMagic
    else { return nil }
    let length = Int(start.readLE(at: 4))
    guard let rest = try? reader.read(upToCount: length + 4), rest.count == length + 4 else { return nil }
    let settings = rest.prefix(length)
    guard CRC32.checksum(settings) == rest.readLE(at: length) else { return nil }
    return (Data(settings), 12 + length)
  }

  /// The record starting at `offset` and where it ends, or nil when it is torn or corrupt.
  private static func readRecord(
    _ reader: FileHandle, at offset: Int, decodeFeatures: Bool
  ) -> (record: JournalRecord, end: Int)? {
    func read(_ count: Int) -> Data? {
      guard count >= 0, let data = try? reader.read(upToCount: count) ?? Data(), data.count == count else {
        return nil
      }
      return data
    }
    guard (try? reader.seek(toOffset: UInt64(offset))) != nil, let head = read(16),
      Array(head.prefix(4)) == recordMagic
    else { return nil }
    let batch = Int(head.readLE(at: 4))
    let entryCount = Int(head.readLE(at: 8))
    let dimension = Int(head.readLE(at: 12))
    var checksummed = Data(head.dropFirst(4))
    var entries: [JournalEntry] = []
    for _ in 0..<entryCount {
      guard let fixed = read(6) else { return nil }
      let length = Int(fixed.readLE(at: 2))
      guard let reason = read(length) else { return nil }
      checksummed.append(fixed)
      checksummed.append(reason)
      let status = fixed[fixed.startIndex]
      entries.append(
        JournalEntry(
          failure: status == 0 ? nil : String(decoding: reason, as: UTF8.self),
          exifOrientation: fixed[fixed.startIndex + 1]))
    }
    let values = entries.filter { $0.failure == nil }.count * dimension
    guard let tail = read(values * 4 + 4) else { return nil }
    checksummed.append(tail.prefix(values * 4))
    guard CRC32.checksum(checksummed) == tail.readLE(at: values * 4) else { return nil }
    var features: [Float] = []
    if decodeFeatures {
      features = tail.withUnsafeBytes { raw in
        (0..<values).map {
          Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
        }
      }
    }
    let end = offset + 4 + checksummed.count + 4  // magic, checksummed part, CRC
    return (JournalRecord(batch: batch, entries: entries, features: features), end)
  }
}

/// The journal on disk was made with other settings.
struct JournalMismatch: Error {
  var storedSettings: Data
}

extension Array where Element == UInt8 {
  fileprivate mutating func appendLE(_ value: UInt32) {
    append(UInt8(truncatingIfNeeded: value))
    append(UInt8(truncatingIfNeeded: value >> 8))
    append(UInt8(truncatingIfNeeded: value >> 16))
    append(UInt8(truncatingIfNeeded: value >> 24))
  }
}

extension Data {
  fileprivate func readLE(at offset: Int) -> UInt32 {
    let base = startIndex + offset
    return UInt32(self[base]) | UInt32(self[base + 1]) << 8 | UInt32(self[base + 2]) << 16 | UInt32(self[base + 3])
      << 24
  }
}
