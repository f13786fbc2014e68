// IEEE 754 binary16 ("half") datasets: what h5py reads and writes as numpy float16.
//
// HDF5 before 1.14.4 has no predefined half type (H5T_IEEE_F16LE); h5py builds one the same way
// this file does: IEEE_F32LE copied, its fields set to sign bit 15, exponent bits 10..14, mantissa
// bits 0..9, size 2 bytes, exponent bias 15. A file written with that type is read back by h5py as
// dtype float16, and HDF5 converts between it and any other float type on read.
//
// Rows are written as Swift Float16 values with the same type on both sides, so HDF5 copies the
// bits: the rounding from float32 is Swift's (round to nearest, ties to even), the same whether a
// value is cached in memory or on disk.

import CHDF5
import CShims

/// The storage of a float dataset's elements.
public enum HDF5FloatStorage: String, Sendable, CaseIterable {
  /// IEEE 754 binary32 (H5T_IEEE_F32LE), numpy float32.
  case float32
  /// IEEE 754 binary16, numpy float16: half the bytes, 11 significant bits (relative rounding
  /// error at most 2^-11, about 4.9e-4), largest finite value 65504.
  case float16
}

/// A new little-endian IEEE binary16 datatype (close it with H5Tclose), built as h5py builds its
/// float16 type.
func makeHalfFloatType(object: String) throws -> hid_t {
  let type = try h5call("create float16 type for", object) { H5Tcopy(hs_ieee_f32le()) }
  do {
    try h5call("create float16 type for", object) { H5Tset_fields(type, 15, 10, 5, 0, 10) }
    try h5call("create float16 type for", object) { H5Tset_size(type, 2) }
    try h5call("create float16 type for", object) { H5Tset_ebias(type, 15) }
  } catch {
    H5Tclose(type)
    throw error
  }
  return type
}

extension HDF5Dataset {
  /// Appends rows of Float16 values to a 2-D dataset made by `createExtendableDataset`
  /// (`rows.count` a multiple of the column count). Into a float16 dataset the bits are copied;
  /// into a float32 one HDF5 widens them exactly.
  public func appendRows(_ rows: UnsafeBufferPointer<Float16>) throws {
    let type = try makeHalfFloatType(object: displayName)
    defer { H5Tclose(type) }
    try appendRows(UnsafeRawBufferPointer(rows), count: rows.count, memType: type)
  }

  /// Reads rows `rows` of a 2-D float dataset as Float16 into `buffer` (rows.count x D,
  /// row-major); from a float16 dataset the bits are copied, from others HDF5 converts.
  public func readRows(_ rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float16>) throws {
    let type = try makeHalfFloatType(object: displayName)
    defer { H5Tclose(type) }
    try readRows(rows, into: UnsafeMutableRawBufferPointer(buffer), count: buffer.count, memType: type)
  }
}
