// Reading a range of rows (ranges of the first dimension) of a dataset of any rank, for files
// too large to read whole: the feature matrix (N, D), or images (N, H, W, 3) given as arrays.
import CHDF5
import CShims

extension HDF5Dataset {
  /// Reads rows `rows` of a numeric dataset of shape (N, ...) as Float into `buffer`
  /// (rows.count x the row's elements, row-major); HDF5 converts other numeric types.
  public func readRows(_ rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
    try readRows(rows, into: UnsafeMutableRawBufferPointer(buffer), count: buffer.count, memType: hs_native_float())
  }

  /// Reads rows `rows` of a numeric dataset as Double (label arrays of any integer or float type).
  public func readRows(_ rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Double>) throws {
    try readRows(rows, into: UnsafeMutableRawBufferPointer(buffer), count: buffer.count, memType: hs_native_double())
  }

  /// Reads rows `rows` of a uint8 dataset (images) as bytes.
  public func readRows(_ rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<UInt8>) throws {
    try readRows(rows, into: UnsafeMutableRawBufferPointer(buffer), count: buffer.count, memType: hs_native_uint8())
  }

  /// Reads rows `rows` into `buffer`, which holds `count` values of `memType`.
  func readRows(_ rows: Range<Int>, into buffer: UnsafeMutableRawBufferPointer, count capacity: Int, memType: hid_t)
    throws
  {
    let current = try shape()
    // A damaged file may declare extents whose product overflows: such a read never fits.
    var needed: Int? = rows.count
    for extent in current.dropFirst() {
      needed = needed.flatMap {
        let (product, overflow) = $0.multipliedReportingOverflow(by: extent)
        return overflow ? nil : product
      }
    }
    guard !current.isEmpty, rows.lowerBound >= 0, rows.upperBound <= current[0], let needed, capacity >= needed
    else {
      throw HDF5Error(
        operation: "read rows of", object: displayName,
        reason: "rows \(rows) into \(capacity) values do not fit a dataset of shape \(current)")
    }
    if rows.isEmpty { return }
    let fileSpace = try h5call("read shape of dataset", displayName) { H5Dget_space(id) }
    defer { H5Sclose(fileSpace) }
    let start = [hsize_t(rows.lowerBound)] + current.dropFirst().map { _ in hsize_t(0) }
    let count = [hsize_t(rows.count)] + current.dropFirst().map { hsize_t($0) }
    try h5call("select rows of", displayName) {
      H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil)
    }
    let memSpace = try makeDataspace(shape: [rows.count] + current.dropFirst(), object: displayName)
    defer { H5Sclose(memSpace) }
    try readVerified("read rows of", rows: rows) {
      H5Dread(id, memType, memSpace, fileSpace, hs_p_default(), buffer.baseAddress!)
    }
  }
}
