// Where a 2-D float32 dataset's rows sit in its file, so a reader can map the file and use the
// rows in place instead of reading (copying) them: possible only when HDF5 stores the values
// as they are in memory (IEEE little-endian float32, no filter but the Fletcher-32 checksum,
// which only appends 4 bytes to each chunk) and whole rows stay together (contiguous storage, or
// chunks as wide as a row). The chunks' layout in the file, for the checksum's own verification
// too (HDF5Dataset+Checksum.swift).
import CHDF5
import CShims

/// A run of consecutive rows stored together in the file.
public struct HDF5RowBlock: Sendable, Equatable {
  /// The first row of the run.
  public var firstRow: Int
  /// The number of rows.
  public var rowCount: Int
  /// The byte offset of the first row in the file; rows follow each other, D floats each.
  public var fileOffset: Int
  /// For a chunk with a Fletcher-32 checksum: the bytes it covers from `fileOffset` (the whole
  /// chunk, rows past the dataset's end included), followed in the file by the checksum's 4
  /// bytes (`verifyChecksums`). Nil without a checksum.
  public var checksummedBytes: Int?
}

/// One chunk of a chunked dataset as the file stores it.
public struct HDF5StoredChunk: Sendable, Equatable {
  /// The chunk's first element, one index per dimension.
  public var origin: [Int]
  /// Where its stored bytes start in the file.
  public var fileOffset: Int
  /// How many bytes are stored: after the filters, a checksum's 4 bytes included.
  public var storedBytes: Int
  /// The filters HDF5 skipped for this chunk (bit k: the pipeline's k-th filter).
  public var skippedFilters: UInt32
}

extension HDF5Dataset {
  /// The filters of the dataset's pipeline, in the order they apply when writing (HDF5's
  /// H5Z_FILTER_* identifiers; `[]` for none).
  public func filters() throws -> [Int32] {
    let dcpl = try h5call("read creation properties of", displayName) { H5Dget_create_plist(id) }
    defer { H5Pclose(dcpl) }
    let count = try h5call("count filters of", displayName) { H5Pget_nfilters(dcpl) }
    return try (0..<count).map { index in
      var flags: UInt32 = 0
      var valueCount = 0
      return try h5call("read a filter of", displayName) {
        H5Pget_filter2(dcpl, UInt32(index), &flags, &valueCount, nil, 0, nil, nil)
      }
    }
  }

  /// Every written chunk of a chunked dataset, in HDF5's index order; `[]` for contiguous
  /// storage.
  public func storedChunks() throws -> [HDF5StoredChunk] {
    guard let rank = try chunkShape()?.count else { return [] }
    let space = try h5call("read shape of dataset", displayName) { H5Dget_space(id) }
    defer { H5Sclose(space) }
    var count: hsize_t = 0
    try h5call("count chunks of", displayName) { H5Dget_num_chunks(id, space, &count) }
    return try (0..<count).map { index in
      var origin = [hsize_t](repeating: 0, count: rank)
      var filterMask: UInt32 = 0
      var address: haddr_t = 0
      var size: hsize_t = 0
      try h5call("locate a chunk of", displayName) {
        H5Dget_chunk_info(id, space, index, &origin, &filterMask, &address, &size)
      }
      guard address != haddr_t.max else {
        throw HDF5Error(operation: "locate a chunk of", object: displayName, reason: "a chunk has no address")
      }
      return HDF5StoredChunk(
        origin: origin.map { Int($0) }, fileOffset: Int(address), storedBytes: Int(size), skippedFilters: filterMask)
    }
  }

  /// The file offsets of every row of a 2-D dataset of little-endian float32 stored without
  /// filters or with the Fletcher-32 checksum alone, contiguously or in chunks spanning whole
  /// rows, every chunk written; blocks in row order covering all rows. Nil when the values cannot
  /// be used in place (another type or byte order, compression, chunks narrower than a row,
  /// unwritten chunks, a row not 4-byte aligned in the file). Checksummed blocks say so
  /// (`checksummedBytes`): verify them (`verifyChecksums`) before using their rows.
  public func rowBlocks() throws -> [HDF5RowBlock]? {
    #if !_endian(little)
      return nil
    #endif
    let shape = try shape()
    guard shape.count == 2, shape[1] > 0 else { return nil }
    let (rows, width) = (shape[0], shape[1])
    let type = try h5call("read type of dataset", displayName) { H5Dget_type(id) }
    defer { H5Tclose(type) }
    guard try h5call("compare type of", displayName, { H5Tequal(type, hs_ieee_f32le()) }) > 0 else { return nil }
    let filters = try filters()
    let checksummed = filters == [H5Z_FILTER_FLETCHER32]
    guard filters.isEmpty || checksummed else { return nil }
    let rowBytes = width * MemoryLayout<Float>.size
    var blocks: [HDF5RowBlock] = []
    if let chunk = try chunkShape() {
      guard chunk.count == 2, chunk[1] == width, chunk[0] > 0 else { return nil }
      let dataBytes = chunk[0] * rowBytes
      for stored in try storedChunks() {
        let first = stored.origin[0]
        let runRows = min(chunk[0], rows - first)
        guard stored.origin[1] == 0, runRows > 0, stored.skippedFilters == 0,
          checksummed ? stored.storedBytes == dataBytes + 4 : stored.storedBytes >= runRows * rowBytes
        else { return nil }
        blocks.append(
          HDF5RowBlock(
            firstRow: first, rowCount: runRows, fileOffset: stored.fileOffset,
            checksummedBytes: checksummed ? dataBytes : nil))
      }
      blocks.sort { $0.firstRow < $1.firstRow }
      // Every row in exactly one block (no chunk left unwritten).
      var next = 0
      for block in blocks {
        guard block.firstRow == next else { return nil }
        next += block.rowCount
      }
      guard next == rows else { return nil }
    } else {
      let offset = H5Dget_offset(id)
      guard rows == 0 || offset != haddr_t.max else { return nil }
      if rows > 0 { blocks.append(HDF5RowBlock(firstRow: 0, rowCount: rows, fileOffset: Int(offset))) }
    }
    guard blocks.allSatisfy({ $0.fileOffset % MemoryLayout<Float>.alignment == 0 }) else { return nil }
    return blocks
  }
}
