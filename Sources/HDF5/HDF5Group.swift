// Groups: create, open, list, look up; and creating datasets inside them. A file is its own
// root group (`HDF5File` is a subclass), as in h5py.
import CHDF5
import CShims

/// What a group member is.
public enum HDF5MemberKind: Sendable, Equatable {
  case group
  case dataset
  case other
}

/// An open HDF5 group.
public class HDF5Group: HDF5Location {
  /// Creates the group `name` (a relative path; missing intermediate groups are created too).
  @discardableResult
  public func createGroup(_ name: String) throws -> HDF5Group {
    let what = display(name)
    let gcpl = try untimedCreationProperties(hs_p_group_create(), object: what)
    defer { H5Pclose(gcpl) }
    try createParents(of: name)
    let group = try h5call("create group", what) {
      H5Gcreate2(id, name, hs_p_default(), gcpl, hs_p_default())
    }
    return HDF5Group(
      handle: H5Handle(group, closer: H5Gclose, in: handle.file), fileName: fileName, path: childPath(name),
      writesChecksums: writesChecksums)
  }

  /// Opens the existing group `name`.
  public func openGroup(_ name: String) throws -> HDF5Group {
    let group = try h5call("open group", display(name)) { H5Gopen2(id, name, hs_p_default()) }
    return HDF5Group(
      handle: H5Handle(group, closer: H5Gclose, in: handle.file), fileName: fileName, path: childPath(name),
      writesChecksums: writesChecksums)
  }

  /// Opens the existing dataset `name`.
  public func openDataset(_ name: String) throws -> HDF5Dataset {
    let dataset = try h5call("open dataset", display(name)) { H5Dopen2(id, name, hs_p_default()) }
    return HDF5Dataset(
      handle: H5Handle(dataset, closer: H5Dclose, in: handle.file), fileName: fileName, path: childPath(name),
      writesChecksums: writesChecksums)
  }

  /// Whether `name` (a relative path such as "a/b/c") leads to an object. Every component is
  /// checked in turn, because HDF5 fails rather than answers when an intermediate is missing.
  public func exists(_ name: String) throws -> Bool {
    var prefix = ""
    for component in name.split(separator: "/", omittingEmptySubsequences: true) {
      prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
      let linked = try h5call("look up", display(prefix)) { H5Lexists(id, prefix, hs_p_default()) }
      if linked <= 0 { return false }
      let resolves = try h5call("look up", display(prefix)) {
        H5Oexists_by_name(id, prefix, hs_p_default())
      }
      if resolves <= 0 { return false }
    }
    return true
  }

  /// What the member `name` is.
  public func memberKind(_ name: String) throws -> HDF5MemberKind {
    let object = try h5call("open", display(name)) { H5Oopen(id, name, hs_p_default()) }
    defer { H5Oclose(object) }
    switch H5Iget_type(object) {
    case H5I_GROUP: return .group
    case H5I_DATASET: return .dataset
    default: return .other
    }
  }

  /// The names of the members, in name order (byte-wise, as HDF5 and h5py list them).
  public func memberNames() throws -> [String] {
    var info = H5G_info_t()
    try h5call("list members of", displayName) { H5Gget_info(id, &info) }
    var names: [String] = []
    for i in 0..<info.nlinks {
      let length = try h5call("list members of", displayName) {
        H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, hs_p_default())
      }
      var buffer = [CChar](repeating: 0, count: Int(length) + 1)
      try h5call("list members of", displayName) {
        H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, hs_p_default())
      }
      names.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return names
  }

  // MARK: Creating datasets

  /// Writes a float32 dataset of `shape` (row-major `values`; `[]` for a scalar).
  @discardableResult
  public func createDataset(_ name: String, floats values: [Float], shape: [Int]) throws -> HDF5Dataset {
    try checkCount(values.count, shape: shape, name: name)
    return try values.withUnsafeBytes { raw in
      try createDataset(name, fileType: hs_ieee_f32le(), memType: hs_native_float(), shape: shape, data: raw)
    }
  }

  /// Writes an int32 dataset of `shape` (row-major `values`).
  @discardableResult
  public func createDataset(_ name: String, int32s values: [Int32], shape: [Int]) throws -> HDF5Dataset {
    try checkCount(values.count, shape: shape, name: name)
    return try values.withUnsafeBytes { raw in
      try createDataset(name, fileType: hs_std_i32le(), memType: hs_native_int32(), shape: shape, data: raw)
    }
  }

  /// Writes a uint8 dataset of `shape` (row-major `values`): images as h5py writes a numpy
  /// uint8 array.
  @discardableResult
  public func createDataset(_ name: String, bytes values: [UInt8], shape: [Int]) throws -> HDF5Dataset {
    try checkCount(values.count, shape: shape, name: name)
    return try values.withUnsafeBytes { raw in
      // One byte has no byte order: the native type is the file type.
      try createDataset(name, fileType: hs_native_uint8(), memType: hs_native_uint8(), shape: shape, data: raw)
    }
  }

  /// Writes a 1-D string dataset (possibly empty).
  @discardableResult
  public func createDataset(
    _ name: String, strings: [String], storage: HDF5StringStorage = .variableUTF8
  ) throws -> HDF5Dataset {
    let size = fixedSize(of: strings)
    let type = try makeStringType(storage, size: size, object: display(name))
    defer { H5Tclose(type) }
    return try withStringBuffer(strings, storage: storage, size: size) { buffer in
      try createDataset(
        name, fileType: type, memType: type, shape: [strings.count],
        data: UnsafeRawBufferPointer(start: buffer, count: strings.count))
    }
  }

  /// Creates an empty float dataset (float32 unless `storage` says float16) of shape
  /// [0, columns] that grows along dimension 0 by `HDF5Dataset.appendRows`, stored in chunks of
  /// `chunkRows` rows.
  @discardableResult
  public func createExtendableDataset(
    _ name: String, columns: Int, chunkRows: Int, storage: HDF5FloatStorage = .float32
  ) throws -> HDF5Dataset {
    precondition(columns > 0 && chunkRows > 0, "extendable datasets need positive columns and chunk rows")
    let what = display(name)
    let space = try makeDataspace(shape: [0, columns], maxShape: [nil, columns], object: what)
    defer { H5Sclose(space) }
    let dcpl = try untimedCreationProperties(hs_p_dataset_create(), object: what)
    defer { H5Pclose(dcpl) }
    let chunk = [hsize_t(chunkRows), hsize_t(columns)]
    try h5call("set chunk size of", what) { H5Pset_chunk(dcpl, 2, chunk) }
    switch storage {
    case .float32:
      return try createDataset(name, fileType: hs_ieee_f32le(), space: space, dcpl: dcpl)
    case .float16:
      let half = try makeHalfFloatType(object: what)
      defer { H5Tclose(half) }
      return try createDataset(name, fileType: half, space: space, dcpl: dcpl)
    }
  }

  private func checkCount(_ count: Int, shape: [Int], name: String) throws {
    guard shape.reduce(1, *) == count else {
      throw HDF5Error(
        operation: "create dataset", object: display(name),
        reason: "shape \(shape) does not hold \(count) values")
    }
  }

  private func createDataset(
    _ name: String, fileType: hid_t, memType: hid_t, shape: [Int], data: UnsafeRawBufferPointer
  ) throws -> HDF5Dataset {
    let what = display(name)
    let space = try makeDataspace(shape: shape, object: what)
    defer { H5Sclose(space) }
    let dcpl = try untimedCreationProperties(hs_p_dataset_create(), object: what)
    defer { H5Pclose(dcpl) }
    let dataset = try createDataset(name, fileType: fileType, space: space, dcpl: dcpl)
    if shape.reduce(1, *) > 0 {
      try h5call("write dataset", what) {
        H5Dwrite(dataset.id, memType, hs_s_all(), hs_s_all(), hs_p_default(), data.baseAddress!)
      }
    }
    return dataset
  }

  /// Every dataset is created here, so every one gets the checksum rule
  /// (`checksummedCreationProperties`).
  func createDataset(_ name: String, fileType: hid_t, space: hid_t, dcpl: hid_t) throws -> HDF5Dataset {
    let what = display(name)
    try createParents(of: name)
    let properties = try checksummedCreationProperties(
      dcpl, fileType: fileType, space: space, checksums: writesChecksums, object: what)
    defer { H5Pclose(properties) }
    let dataset = try h5call("create dataset", what) {
      H5Dcreate2(id, name, fileType, space, hs_p_default(), properties, hs_p_default())
    }
    return HDF5Dataset(
      handle: H5Handle(dataset, closer: H5Dclose, in: handle.file), fileName: fileName, path: childPath(name),
      writesChecksums: writesChecksums)
  }

  /// Creates the missing parent groups of `name` ("a/b" for "a/b/c"), untimed like every
  /// group Headstart creates, so nested names behave as in h5py and files stay deterministic.
  private func createParents(of name: String) throws {
    let components = name.split(separator: "/", omittingEmptySubsequences: true).dropLast()
    var prefix = ""
    for component in components {
      prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
      if try !exists(prefix) { try createGroup(prefix) }
    }
  }
}
