// The central directory of a `.npz` (a zip file, as numpy's savez and savez_compressed write
// it): each entry's name, method, sizes, CRC-32 and where its data starts. numpy writes every
// entry with Zip64 sizes in its local header (force_zip64), and files past 4 GiB need Zip64
// records throughout, so both are read. Every offset and size is checked against the file.

/// One member of a zip file.
struct ZipEntry: Equatable {
  var name: String
  /// 0 stored, 8 deflated (anything else is refused when the entry is opened).
  var method: Int
  var compressedSize: Int
  var size: Int
  var crc: UInt32
  var localHeaderOffset: Int
}

enum ZipDirectory {
  /// The entries of the zip file `file`, in directory order.
  static func entries(of file: OpenFile) throws(ArrayError) -> [ZipEntry] {
    let name = file.path
    func damaged(_ problem: String) -> ArrayError { ArrayError("\(name): not a readable .npz (\(problem))") }
    // The end-of-central-directory record: 22 bytes, then a comment of up to 65,535 bytes.
    let tailLength = min(file.size, 22 + 65_535)
    let tail = try file.read(at: file.size - tailLength, count: tailLength)
    guard tail.count >= 22,
      let end = stride(from: tail.count - 22, through: 0, by: -1).first(where: { tail.u32(at: $0) == 0x0605_4B50 })
    else { throw damaged("no end of central directory; is the file cut short?") }
    var count = Int(tail.u16(at: end + 10))
    var directorySize = Int(tail.u32(at: end + 12))
    var directoryOffset = Int(tail.u32(at: end + 16))
    if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
      // Zip64: a locator just before the record points at the Zip64 end record.
      let locatorOffset = file.size - tailLength + end - 20
      guard locatorOffset >= 0 else { throw damaged("no Zip64 locator") }
      let locator = try file.read(at: locatorOffset, count: 20)
      guard locator.u32(at: 0) == 0x0706_4B50, let recordOffset = Int(exactly: locator.u64(at: 8)),
        recordOffset >= 0, recordOffset <= file.size - 56
      else { throw damaged("a damaged Zip64 locator") }
      let record = try file.read(at: recordOffset, count: 56)
      guard record.u32(at: 0) == 0x0606_4B50, let entries = Int(exactly: record.u64(at: 32)),
        let size = Int(exactly: record.u64(at: 40)), let offset = Int(exactly: record.u64(at: 48))
      else { throw damaged("a damaged Zip64 end record") }
      (count, directorySize, directoryOffset) = (entries, size, offset)
    }
    guard directoryOffset >= 0, directorySize >= 0, directorySize <= file.size - directoryOffset,
      directorySize <= 1 << 26, count <= directorySize / 46 + 1
    else { throw damaged("the central directory lies outside the file") }
    let directory = try file.read(at: directoryOffset, count: directorySize)
    var entries: [ZipEntry] = []
    var at = 0
    for _ in 0..<count {
      guard at + 46 <= directory.count, directory.u32(at: at) == 0x0201_4B50 else {
        throw damaged("a damaged central directory entry")
      }
      let flags = directory.u16(at: at + 8)
      let nameLength = Int(directory.u16(at: at + 28))
      let extraLength = Int(directory.u16(at: at + 30))
      let commentLength = Int(directory.u16(at: at + 32))
      guard at + 46 + nameLength + extraLength + commentLength <= directory.count else {
        throw damaged("a central directory entry runs past the directory")
      }
      var entry = ZipEntry(
        name: String(decoding: directory[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self),
        method: Int(directory.u16(at: at + 10)), compressedSize: Int(directory.u32(at: at + 20)),
        size: Int(directory.u32(at: at + 24)), crc: directory.u32(at: at + 16),
        localHeaderOffset: Int(directory.u32(at: at + 42)))
      guard flags & 1 == 0 else { throw damaged("entry \(entry.name) is encrypted") }
      try readZip64Extra(
        Array(directory[(at + 46 + nameLength)..<(at + 46 + nameLength + extraLength)]), into: &entry,
        damaged: damaged)
      entries.append(entry)
      at += 46 + nameLength + extraLength + commentLength
    }
    return entries
  }

  /// Where `entry`'s data starts: after its local header, whose name and extra field lengths
  /// may differ from the central directory's.
  static func dataOffset(of entry: ZipEntry, in file: OpenFile) throws(ArrayError) -> Int {
    guard entry.localHeaderOffset >= 0, entry.localHeaderOffset <= file.size - 30 else {
      throw ArrayError("\(file.path): entry \(entry.name) lies outside the file")
    }
    let local = try file.read(at: entry.localHeaderOffset, count: 30)
    guard local.u32(at: 0) == 0x0403_4B50 else {
      throw ArrayError("\(file.path): entry \(entry.name) has a damaged local header")
    }
    let start = entry.localHeaderOffset + 30 + Int(local.u16(at: 26)) + Int(local.u16(at: 28))
    guard entry.compressedSize <= file.size - start else {
      throw ArrayError("\(file.path): entry \(entry.name) runs past the end of the file (truncated)")
    }
    return start
  }

  /// Zip64 extra field (id 1): 8-byte values for exactly those of size, compressed size and
  /// local header offset (in that order) that the fixed fields mark 0xFFFFFFFF.
  private static func readZip64Extra(
    _ extra: [UInt8], into entry: inout ZipEntry, damaged: (String) -> ArrayError
  ) throws(ArrayError) {
    var at = 0
    while at + 4 <= extra.count {
      let id = extra.u16(at: at)
      let length = Int(extra.u16(at: at + 2))
      guard at + 4 + length <= extra.count else { throw damaged("entry \(entry.name) has a damaged extra field") }
      if id == 1 {
        var field = at + 4
        func next() throws(ArrayError) -> Int {
          guard field + 8 <= at + 4 + length, let value = Int(exactly: extra.u64(at: field)) else {
            throw damaged("entry \(entry.name) has a damaged Zip64 field")
          }
          field += 8
          return value
        }
        if entry.size == 0xFFFF_FFFF { entry.size = try next() }
        if entry.compressedSize == 0xFFFF_FFFF { entry.compressedSize = try next() }
        if entry.localHeaderOffset == 0xFFFF_FFFF { entry.localHeaderOffset = try next() }
      }
      at += 4 + length
    }
  }
}

extension Array where Element == UInt8 {
  func u16(at offset: Int) -> UInt16 { UInt16(self[offset]) | UInt16(self[offset + 1]) << 8 }
  func u32(at offset: Int) -> UInt32 { UInt32(u16(at: offset)) | UInt32(u16(at: offset + 2)) << 16 }
  func u64(at offset: Int) -> UInt64 { UInt64(u32(at: offset)) | UInt64(u32(at: offset + 4)) << 32 }
}
