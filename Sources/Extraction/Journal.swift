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
  /// Where each finished batch's record starts (after its magic), by batch index; features are
  /// read back only when the feature file is assembled.
  private(set) var recordOffsets: [Int: Int] = [:]
  private(set) var entriesByBatch: [Int: [JournalEntry]] = [:]

  private static let headerMagic = Array("HSJ1".utf8)
  private static let recordMagic = Array("HSB1".utf8)

  /// Opens an existing journal (returning its settings) or creates one with `settings`.
  /// A journal whose header is unreadable is replaced: it holds no finished batch.
  init(path: String, settings: Data) throws {
    self.path = path
    let existing = FileManager.default.contents(atPath: path)
    descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw ExtractError.usage("cannot write \(path): \(String(cString: strerror(errno)))")
    }
    if let existing, let (stored, end) = Journal.parseHeader(existing) {
      guard stored == settings else {
        close(descriptor)
        throw JournalMismatch(storedSettings: stored)
      }
      let validEnd = scanRecords(existing, from: end)
      if validEnd < existing.count { _ = ftruncate(descriptor, off_t(validEnd)) }
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

  /// The settings stored in an existing journal's header, if it has a readable one.
  static func storedSettings(path: String) -> Data? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return parseHeader(data)?.settings
  }

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
    recordOffsets[batch] = offset + 4
    entriesByBatch[batch] = entries
  }

  /// Reads one finished batch back.
  func record(batch: Int) throws -> JournalRecord {
    guard let offset = recordOffsets[batch] else { throw ExtractError.runtime("\(path): batch \(batch) is missing") }
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(offset))
    let headerBytes = try handle.read(upToCount: 12) ?? Data()
    guard headerBytes.count == 12 else { throw ExtractError.runtime("\(path): batch \(batch) is truncated") }
    let entryCount = Int(headerBytes.readLE(at: 4))
    let dimension = Int(headerBytes.readLE(at: 8))
    var entries: [JournalEntry] = []
    for _ in 0..<entryCount {
      let fixed = try handle.read(upToCount: 6) ?? Data()
      guard fixed.count == 6 else { throw ExtractError.runtime("\(path): batch \(batch) is truncated") }
      let length = Int(fixed.readLE(at: 2))
      let reason = length > 0 ? (try handle.read(upToCount: length) ?? Data()) : Data()
      entries.append(
        JournalEntry(
          failure: fixed[fixed.startIndex] == 0 ? nil : String(decoding: reason, as: UTF8.self),
          exifOrientation: fixed[fixed.startIndex + 1]))
    }
    let okRows = entries.filter { $0.failure == nil }.count
    let featureBytes = try handle.read(upToCount: okRows * dimension * 4) ?? Data()
    guard featureBytes.count == okRows * dimension * 4 else {
      throw ExtractError.runtime("\(path): batch \(batch) is truncated")
    }
    let features = featureBytes.withUnsafeBytes { raw in
      (0..<(okRows * dimension)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
    return JournalRecord(batch: batch, entries: entries, features: features)
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

  private static func parseHeader(_ data: Data) -> (settings: Data, end: Int)? {
    guard data.count >= 12, Array(data.prefix(4)) == headerMagic else { return nil }
    let length = Int(data.readLE(at: 4))
    guard data.count >= 12 + length else { return nil }
    let settings = data.subdata(in: data.startIndex + 8..<data.startIndex + 8 + length)
    guard CRC32.checksum(settings) == data.readLE(at: 8 + length) else { return nil }
    return (settings, 12 + length)
  }

  /// Indexes the valid records from `start`; returns where the valid part ends.
  private func scanRecords(_ data: Data, from start: Int) -> Int {
    var offset = start
    while data.count - offset >= 20 {
      guard Array(data[data.startIndex + offset..<data.startIndex + offset + 4]) == Journal.recordMagic else { break }
      let batch = Int(data.readLE(at: offset + 4))
      let entryCount = Int(data.readLE(at: offset + 8))
      let dimension = Int(data.readLE(at: offset + 12))
      var cursor = offset + 16
      var entries: [JournalEntry] = []
      var ok = true
      for _ in 0..<entryCount {
        guard data.count - cursor >= 6 else { ok = false; break }
        let status = data[data.startIndex + cursor]
        let orientation = data[data.startIndex + cursor + 1]
        let length = Int(data.readLE(at: cursor + 2))
        guard data.count - cursor - 6 >= length else { ok = false; break }
        let reason = data.subdata(in: data.startIndex + cursor + 6..<data.startIndex + cursor + 6 + length)
        entries.append(
          JournalEntry(failure: status == 0 ? nil : String(decoding: reason, as: UTF8.self), exifOrientation: orientation))
        cursor += 6 + length
      }
      guard ok else { break }
      let featureBytes = entries.filter { $0.failure == nil }.count * dimension * 4
      guard data.count - cursor >= featureBytes + 4 else { break }
      let body = data.subdata(in: data.startIndex + offset + 4..<data.startIndex + cursor + featureBytes)
      guard CRC32.checksum(body) == data.readLE(at: cursor + featureBytes) else { break }
      recordOffsets[batch] = offset + 4
      entriesByBatch[batch] = entries
      offset = cursor + featureBytes + 4
    }
    return offset
  }
}

/// The journal on disk was made with other settings.
struct JournalMismatch: Error {
  var storedSettings: Data
}

/// CRC-32 (IEEE 802.3, as zlib), to recognise a record torn by a crash.
enum CRC32 {
  private static let table: [UInt32] = (0..<256).map { n in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
  }

  static func checksum<Bytes: Collection>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    return crc ^ 0xFFFF_FFFF
  }
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
    return UInt32(self[base]) | UInt32(self[base + 1]) << 8 | UInt32(self[base + 2]) << 16 | UInt32(self[base + 3]) << 24
  }
}
