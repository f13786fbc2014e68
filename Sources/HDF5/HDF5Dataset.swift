// Datasets: shape, element class, whole reads (numbers converted by HDF5, strings of either
// storage), and appending rows to an extendable 2-D float32 dataset.
import CHDF5
import CShims

/// An open HDF5 dataset.
public final class HDF5Dataset: HDF5Location {
  /// The current shape (`[]` for a scalar).
  public func shape() throws -> [Int] {
    let space = try h5call("read shape of dataset", displayName) { H5Dget_space(id) }
    defer { H5Sclose(space) }
    return try dataspaceShape(space, object: displayName)
  }

  /// The stored element class.
  public func elementClass() throws -> HDF5ElementClass {
    let type = try h5call("read type of dataset", displayName) { H5Dget_type(id) }
    defer { H5Tclose(type) }
    return HDF5.elementClass(of: type)
  }

  /// The chunk shape of a chunked dataset, nil for contiguous storage.
  public func chunkShape() throws -> [Int]? {
    let dcpl = try h5call("read creation properties of", displayName) { H5Dget_create_plist(id) }
    defer { H5Pclose(dcpl) }
    guard H5Pget_layout(dcpl) == H5D_CHUNKED else { return nil }
    var dims = [hsize_t](repeating: 0, count: 32)
    let rank = try h5call("read chunk shape of", displayName) { H5Pget_chunk(dcpl, 32, &dims) }
    return dims.prefix(Int(rank)).map { Int($0) }
  }

  /// Reads any numeric dataset (float16/32/64 or integer) as Float, row-major.
  public func readFloats() throws -> [Float] {
    try withReadable { try $0.readNumbers(memType: hs_native_float(), zero: Float(0)) }
  }

  /// Reads any numeric dataset as Double, row-major.
  public func readDoubles() throws -> [Double] {
    try withReadable { try $0.readNumbers(memType: hs_native_double(), zero: Double(0)) }
  }

  /// Reads any integer dataset as Int32, row-major.
  public func readInt32s() throws -> [Int32] {
    try withReadable { try $0.readNumbers(memType: hs_native_int32(), zero: Int32(0)) }
  }

  /// Reads a string dataset, fixed-length or variable-length.
  public func readStrings() throws -> [String] {
    try withReadable { try $0.readStrings() }
  }

  /// Appends rows to a 2-D float dataset made by `createExtendableDataset`; `rows.count`
  /// must be a multiple of the column count.
  public func appendRows(_ rows: UnsafeBufferPointer<Float>) throws {
    try appendRows(UnsafeRawBufferPointer(rows), count: rows.count, memType: hs_native_float())
  }

  /// Appends `count` values of `memType` (whole rows) at the end of dimension 0.
  func appendRows(_ rows: UnsafeRawBufferPointer, count: Int, memType: hid_t) throws {
    let current = try shape()
    guard current.count == 2, current[1] > 0, count % current[1] == 0 else {
      throw HDF5Error(
        operation: "append rows to", object: displayName,
        reason: "\(count) values are not whole rows of a dataset of shape \(current)")
    }
    let added = count / current[1]
    if added == 0 { return }
    let newShape = [hsize_t(current[0] + added), hsize_t(current[1])]
    try h5call("extend dataset", displayName) { H5Dset_extent(id, newShape) }
    let fileSpace = try h5call("read shape of dataset", displayName) { H5Dget_space(id) }
    defer { H5Sclose(fileSpace) }
    let start = [hsize_t(current[0]), 0]
    let count = [hsize_t(added), hsize_t(current[1])]
    try h5call("select rows of", displayName) {
      H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil)
    }
    let memSpace = try makeDataspace(shape: [added, current[1]], object: displayName)
    defer { H5Sclose(memSpace) }
    try h5call("write rows to", displayName) {
      H5Dwrite(id, memType, memSpace, fileSpace, hs_p_default(), rows.baseAddress!)
    }
  }

  private func withReadable<R>(_ body: (H5Readable) throws -> R) throws -> R {
    let type = try h5call("read type of dataset", displayName) { H5Dget_type(id) }
    defer { H5Tclose(type) }
    let space = try h5call("read shape of dataset", displayName) { H5Dget_space(id) }
    defer { H5Sclose(space) }
    let dataset = id
    let stored = Int(clamping: H5Dget_storage_size(id))
    let readable = H5Readable(
      object: displayName, fileType: type, space: space, storedBytes: stored, id: dataset, isAttribute: false
    ) {
      memType, buffer in
      try self.readVerified("read", rows: nil) {
        H5Dread(dataset, memType, hs_s_all(), hs_s_all(), hs_p_default(), buffer)
      }
    }
    return try body(readable)
  }
}
