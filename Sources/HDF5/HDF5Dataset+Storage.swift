// Where a 2-D float32 dataset's rows sit in its file, so a reader can map the file and use the
// rows in place instead of reading (copying) them: possible only when HDF5 stores the values
// as they are in memory (IEEE little-endian float32, no filters) and whole rows stay together
// (contiguous storage, or chunks as wide as a row).
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
}

extension HDF5Dataset {
  /// The file offsets of every row of a 2-D dataset of little-endian float32 stored without
  /// filters, contiguously or in chunks spanning whole rows, every chunk written; blocks in row
  /// order covering all rows. Nil when the values cannot be used in place (another type or
  /// byte order, compression, chunks narrower than a row, unwritten chunks, a row not 4-byte
  /// aligned in the file).
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
    let dcpl = try h5call("read creation properties of", displayName) { H5Dget_create_plist(id) }
    defer { H5Pclose(dcpl) }
    guard try h5call("count filters of", displayName, { H5Pget_nfilters(dcpl) }) == 0 else { return nil }
    let rowBytes = width * MemoryLayout<Float>.size
    var blocks: [HDF5RowBlock] = []
    switch H5Pget_layout(dcpl) {
    case H5D_CONTIGUOUS:
      let offset = H5Dget_offset(id)
      guard rows == 0 || offset != haddr_t.max else { return nil }
      if rows > 0 { blocks.append(HDF5RowBlock(firstRow: 0, rowCount: rows, fileOffset: Int(offset))) }
    case H5D_CHUNKED:
      guard let chunk = try chunkShape(), chunk.count == 2, chunk[1] == width, chunk[0] > 0 else { return nil }
      let space = try h5call("read shape of dataset", displayName) { H5Dget_space(id) }
      defer { H5Sclose(space) }
      var count: hsize_t = 0
      try h5call("count chunks of", displayName) { H5Dget_num_chunks(id, space, &count) }
      for index in 0..<count {
        var origin = [hsize_t](repeating: 0, count: 2)
        var filterMask: UInt32 = 0
        var address: haddr_t = 0
        var size: hsize_t = 0
        try h5call("locate a chunk of", displayName) {
          H5Dget_chunk_info(id, space, index, &origin, &filterMask, &address, &size)
        }
        let first = Int(origin[0])
        let runRows = min(chunk[0], rows - first)
        guard origin[1] == 0, address != haddr_t.max, runRows > 0, Int(size) >= runRows * rowBytes else { return nil }
        blocks.append(HDF5RowBlock(firstRow: first, rowCount: runRows, fileOffset: Int(address)))
      }
      blocks.sort { $0.firstRow < $1.firstRow }
      // Every row in exactly one block (no chunk left unwritten).
      var next = 0
      for block in blocks {
        guard block.firstRow == next else { return nil }
        next += block.rowCount
      }
      guard next == rows else { return nil }
    default:
      return nil
    }
    guard blocks.allSatisfy({ $0.fileOffset % MemoryLayout<Float>.alignment == 0 }) else { return nil }
    return blocks
  }
}
