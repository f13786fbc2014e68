// 1-D datasets created at their final length and written a part at a time (row ranges), so a
// writer holds one part in memory, not the whole column: `merge` writes /paths, /labels and
// /failed this way, shard after shard.

import CHDF5
import CShims

/// The element type of a 1-D dataset written in parts.
public enum HDF5PartKind: Sendable {
  case float32
  case int32
  case variableString
}

extension HDF5Group {
  /// Creates a 1-D dataset of `count` elements of `kind`, to be filled with `HDF5Dataset.write(_:at:)`.
  @discardableResult
  public func createDataset(_ name: String, partsOf kind: HDF5PartKind, count: Int) throws -> HDF5Dataset {
    let what = display(name)
    let space = try makeDataspace(shape: [count], object: what)
    defer { H5Sclose(space) }
    let dcpl = try untimedCreationProperties(hs_p_dataset_create(), object: what)
    defer { H5Pclose(dcpl) }
    switch kind {
    case .float32: return try createDataset(name, fileType: hs_ieee_f32le(), space: space, dcpl: dcpl)
    case .int32: return try createDataset(name, fileType: hs_std_i32le(), space: space, dcpl: dcpl)
    case .variableString:
      let type = try makeStringType(.variableUTF8, size: 1, object: what)
      defer { H5Tclose(type) }
      return try createDataset(name, fileType: type, space: space, dcpl: dcpl)
    }
  }
}

extension HDF5Dataset {
  /// Writes `values` at elements start..<start + values.count of this 1-D float dataset.
  public func write(_ values: [Float], at start: Int) throws {
    try values.withUnsafeBytes {
      try writeElements($0.baseAddress, count: values.count, at: start, memType: hs_native_float())
    }
  }

  /// Writes `values` at elements start..<start + values.count of this 1-D int32 dataset.
  public func write(_ values: [Int32], at start: Int) throws {
    try values.withUnsafeBytes {
      try writeElements($0.baseAddress, count: values.count, at: start, memType: hs_native_int32())
    }
  }

  /// Writes `strings` at elements start..<start + strings.count of this 1-D variable-length
  /// UTF-8 string dataset.
  public func write(_ strings: [String], at start: Int) throws {
    let type = try makeStringType(.variableUTF8, size: 1, object: displayName)
    defer { H5Tclose(type) }
    try withStringBuffer(strings, storage: .variableUTF8, size: 1) { buffer in
      try writeElements(buffer, count: strings.count, at: start, memType: type)
    }
  }

  private func writeElements(_ data: UnsafeRawPointer?, count: Int, at start: Int, memType: hid_t) throws {
    guard count > 0, let data else { return }
    let length = try shape()
    guard length.count == 1, start >= 0, start + count <= length[0] else {
      throw HDF5Error(
        operation: "write elements to", object: displayName,
        reason: "elements \(start)..<\(start + count) do not fit a dataset of shape \(length)")
    }
    let fileSpace = try h5call("read shape of dataset", displayName) { H5Dget_space(id) }
    defer { H5Sclose(fileSpace) }
    try h5call("select elements of", displayName) {
      H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, [hsize_t(start)], nil, [hsize_t(count)], nil)
    }
    let memSpace = try makeDataspace(shape: [count], object: displayName)
    defer { H5Sclose(memSpace) }
    try h5call("write elements to", displayName) { H5Dwrite(id, memType, memSpace, fileSpace, hs_p_default(), data) }
  }
}
