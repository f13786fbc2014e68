// Damaging a written file the way a bad disk or a bad copy would: one bit of a dataset's stored
// values flipped in place, everything else (HDF5's metadata included) left as it was.

import Foundation
import HDF5

/// Flips bit `mask` of byte `byte` of the stored values of `dataset` in the HDF5 file at `path`:
/// of its chunk `chunk` (chunks in row order), or of its values when stored contiguously as a
/// (N, D) float32 matrix or unchunked. Returns the rows that chunk holds (all rows when
/// contiguous), the rows a reader should name.
@discardableResult
public func flipStoredBit(
  of dataset: String, in path: String, chunk: Int = 0, byte: Int = 0, mask: UInt8 = 0x01
) throws -> Range<Int> {
  let (offset, rows): (Int, Range<Int>) = try HDF5File.withFile(path) { file in
    let opened = try file.openDataset(dataset)
    let length = try opened.shape().first ?? 1
    let chunks = try opened.storedChunks().sorted { $0.origin.lexicographicallyPrecedes($1.origin) }
    if let shape = try opened.chunkShape(), chunk < chunks.count {
      let first = chunks[chunk].origin[0]
      precondition(byte < chunks[chunk].storedBytes - 4, "byte \(byte) is past chunk \(chunk)'s values")
      return (chunks[chunk].fileOffset + byte, first..<min(length, first + shape[0]))
    }
    guard let block = try opened.rowBlocks()?.first, chunks.isEmpty else {
      throw CorruptionError(description: "\(path):\(dataset) has no chunk \(chunk) and no contiguous rows")
    }
    return (block.fileOffset + byte, 0..<length)
  }
  let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
  defer { try? handle.close() }
  try handle.seek(toOffset: UInt64(offset))
  guard let original = try handle.read(upToCount: 1)?.first else {
    throw CorruptionError(description: "\(path) ends before byte \(offset)")
  }
  try handle.seek(toOffset: UInt64(offset))
  try handle.write(contentsOf: [original ^ mask])
  return rows
}

/// A file that cannot be damaged as asked.
public struct CorruptionError: Error, CustomStringConvertible {
  public var description: String
}
