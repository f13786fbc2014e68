// Reading a range of rows of a 2-D dataset, for files too large to read whole.
import CHDF5
import CShims

extension HDF5Dataset {
  /// Reads rows `rows` of a 2-D numeric dataset of shape (N, D) as Float into `buffer`
  /// (rows.count x D, row-major); HDF5 converts other numeric types.
  public func readRows(_ rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
    try readRows(rows, into: UnsafeMutableRawBufferPointer(buffer), count: buffer.count, memType: hs_native_float())
  }

  /// Reads rows `rows` into `buffer`, which holds `count` values of `memType`.
  func readRows(_ rows: Range<Int>, into buffer: UnsafeMutableRawBufferPointer, count capacity: Int, memType: hid_t)
    throws
  {
    let current = try shape()
    guard current.count == 2, rows.lowerBound >= 0, rows.upperBound <= current[0],
      capacity >= rows.count * current[1]
    else {
      throw HDF5Error(
        operation: "read rows of", object: displayName,
        reason: "rows \(rows) into \(capacity) values do not fit a dataset of shape \(current)")
    }
    if rows.isEmpty { return }
    let fileSpace = try h5call("read shape of dataset", displayName) { H5Dget_space(id) }
    defer { H5Sclose(fileSpace) }
    let start = [hsize_t(rows.lowerBound), 0]
    let count = [hsize_t(rows.count), hsize_t(current[1])]
    try h5call("select rows of", displayName) {
      H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil)
    }
    let memSpace = try makeDataspace(shape: [rows.count, current[1]], object: displayName)
    defer { H5Sclose(memSpace) }
    try readVerified("read rows of", rows: rows) {
      H5Dread(id, memType, memSpace, fileSpace, hs_p_default(), buffer.baseAddress!)
    }
  }
}
