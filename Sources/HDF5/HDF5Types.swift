// Datatypes and dataspaces: the small vocabulary every read and write needs.
import CHDF5
import CShims

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What kind of element a dataset or attribute stores, as far as Headstart cares.
public enum HDF5ElementClass: Sendable, Equatable {
  case float(bytes: Int)
  case integer(bytes: Int, signed: Bool)
  /// `variable` is true for variable-length strings, false for fixed-length (numpy 'S').
  case string(variable: Bool)
  case other
}

/// The storage of a new string dataset or attribute.
public enum HDF5StringStorage: Sendable {
  /// Variable-length UTF-8, what h5py writes for Python `str`.
  case variableUTF8
  /// Variable-length ASCII, what h5py writes for Python `bytes` in object arrays (Keras 3's
  /// legacy HDF5 writer).
  case variableASCII
  /// Fixed-length, NUL-padded ASCII bytes, what h5py writes for numpy 'S' arrays
  /// (Keras' `layer_names`, `weight_names`, `keras_version`).
  case fixedBytes
}

/// Classifies a file datatype.
func elementClass(of type: hid_t) -> HDF5ElementClass {
  let size = H5Tget_size(type)
  switch H5Tget_class(type) {
  case H5T_FLOAT: return .float(bytes: size)
  case H5T_INTEGER: return .integer(bytes: size, signed: H5Tget_sign(type) != H5T_SGN_NONE)
  case H5T_STRING: return .string(variable: H5Tis_variable_str(type) > 0)
  default: return .other
  }
}

/// Makes a dataspace for `shape`: scalar for `[]`, simple otherwise; `maxShape` entries of
/// `nil` mean unlimited.
func makeDataspace(shape: [Int], maxShape: [Int?]? = nil, object: String) throws -> hid_t {
  if shape.isEmpty {
    return hid_t(try h5call("create dataspace for", object) { H5Screate(H5S_SCALAR) })
  }
  let dims = shape.map { hsize_t($0) }
  if let maxShape {
    let maxDims = maxShape.map { $0.map { hsize_t($0) } ?? hs_s_unlimited() }
    return try h5call("create dataspace for", object) {
      H5Screate_simple(Int32(dims.count), dims, maxDims)
    }
  }
  return try h5call("create dataspace for", object) { H5Screate_simple(Int32(dims.count), dims, nil) }
}

/// The current shape of a dataspace (`[]` for scalars).
func dataspaceShape(_ space: hid_t, object: String) throws -> [Int] {
  let rank = Int(try h5call("read rank of", object) { H5Sget_simple_extent_ndims(space) })
  if rank == 0 { return [] }
  var dims = [hsize_t](repeating: 0, count: rank)
  try h5call("read shape of", object) { H5Sget_simple_extent_dims(space, &dims, nil) }
  // A damaged file can declare any 64-bit extent; one past Int.max is refused, not trapped on.
  return try dims.map { dim in
    guard let extent = Int(exactly: dim) else {
      throw HDF5Error(operation: "read shape of", object: object, reason: "it declares an extent of \(dim)")
    }
    return extent
  }
}

/// A new string datatype: variable-length UTF-8, or fixed-length NUL-padded ASCII of `size`.
func makeStringType(_ storage: HDF5StringStorage, size: Int, object: String) throws -> hid_t {
  let type = try h5call("create string type for", object) { H5Tcopy(hs_c_s1()) }
  do {
    switch storage {
    case .variableUTF8, .variableASCII:
      try h5call("create string type for", object) { H5Tset_size(type, hs_variable()) }
      let cset = storage == .variableUTF8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII
      try h5call("create string type for", object) { H5Tset_cset(type, cset) }
    case .fixedBytes:
      try h5call("create string type for", object) { H5Tset_size(type, max(size, 1)) }
      try h5call("create string type for", object) { H5Tset_strpad(type, H5T_STR_NULLPAD) }
      try h5call("create string type for", object) { H5Tset_cset(type, H5T_CSET_ASCII) }
    }
  } catch {
    H5Tclose(type)
    throw error
  }
  return type
}

/// Something HDF5 can read whole into memory: a dataset or an attribute. `read` reads it all as
/// `memType` into `buffer`, throwing HDF5's failure.
struct H5Readable {
  var object: String
  var fileType: hid_t
  var space: hid_t
  /// The bytes the file stores for it (H5Dget_storage_size, H5Aget_storage_size).
  var storedBytes: Int
  /// The open dataset or attribute itself, for reads done in a child process
  /// (HDF5IsolatedStrings.swift).
  var id: hid_t
  var isAttribute: Bool
  var read: (_ memType: hid_t, _ buffer: UnsafeMutableRawPointer) throws -> Void
}

/// How many times its stored size a dataset may declare: deflate, the densest filter h5py
/// offers, inflates at most 1032:1. A damaged (or hostile) file can declare any shape over a
/// few stored bytes; reading it would allocate what the shape says.
let maximumExpansion = 1032
/// Declared sizes up to this are read whatever is stored (unwritten data reads as fill values).
let alwaysReadableBytes = 64 << 20

extension H5Readable {
  var shape: [Int] { get throws { try dataspaceShape(space, object: object) } }

  /// The element count, refused when it overflows or when the file cannot hold that much data.
  var count: Int {
    get throws {
      var n = 1
      for extent in try shape {
        let (product, overflow) = n.multipliedReportingOverflow(by: extent)
        guard !overflow else {
          throw HDF5Error(operation: "read", object: object, reason: "its shape \(try shape) overflows")
        }
        n = product
      }
      let (declared, overflow) = n.multipliedReportingOverflow(by: max(1, H5Tget_size(fileType)))
      if overflow || (declared > alwaysReadableBytes && declared / maximumExpansion > storedBytes) {
        throw HDF5Error(
          operation: "read", object: object,
          reason: "its shape \(try shape) declares far more data than the \(storedBytes) bytes the file stores "
            + "for it (a damaged file?)")
      }
      return n
    }
  }

  /// Reads numbers of any float or integer type, converted by HDF5 (float16 included).
  func readNumbers<T>(memType: hid_t, zero: T) throws -> [T] {
    let n = try count
    var values = [T](repeating: zero, count: n)
    if n == 0 { return values }
    switch elementClass(of: fileType) {
    case .float, .integer: break
    default: throw HDF5Error(operation: "read numbers from", object: object, reason: "it is not numeric")
    }
    try values.withUnsafeMutableBytes { raw in try read(memType, raw.baseAddress!) }
    return values
  }

  /// Reads strings, fixed-length or variable-length; an empty non-string array reads as `[]`
  /// (Keras writes an empty `weight_names` as an empty float64 array).
  func readStrings() throws -> [String] {
    let n = try count
    let kind = elementClass(of: fileType)
    if n == 0 { return [] }
    guard case .string(let variable) = kind else {
      throw HDF5Error(operation: "read strings from", object: object, reason: "it does not hold strings")
    }
    let memType = try h5call("copy string type of", object) { H5Tcopy(fileType) }
    defer { H5Tclose(memType) }
    if variable {
      if let strings = try readVariableStringsInChild(memType: memType, count: n) { return strings }
      var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
      try pointers.withUnsafeMutableBytes { raw in try read(memType, raw.baseAddress!) }
      defer {
        pointers.withUnsafeMutableBytes { raw in
          _ = H5Dvlen_reclaim(memType, space, hs_p_default(), raw.baseAddress!)
        }
      }
      return pointers.map { $0.map { String(cString: $0) } ?? "" }
    }
    let size = H5Tget_size(fileType)
    var bytes = [UInt8](repeating: 0, count: n * size)
    try bytes.withUnsafeMutableBytes { raw in try read(memType, raw.baseAddress!) }
    let spacePadded = H5Tget_strpad(fileType) == H5T_STR_SPACEPAD
    return (0..<n).map { i in
      var field = bytes[(i * size)..<((i + 1) * size)].prefix { $0 != 0 }
      if spacePadded { while field.last == 0x20 { field = field.dropLast() } }
      return String(decoding: field, as: UTF8.self)
    }
  }
}

/// Calls `body` with the strings laid out for `type`: an array of C-string pointers for
/// variable-length, or `count * size` NUL-padded bytes for fixed-length.
func withStringBuffer<R>(
  _ strings: [String], storage: HDF5StringStorage, size: Int,
  _ body: (UnsafeRawPointer) throws -> R
) rethrows -> R {
  switch storage {
  case .variableUTF8, .variableASCII:
    // One spare nil so an empty list still has an address (nothing is read from it then).
    let copies = strings.map { strdup($0) } + [nil]
    defer { for copy in copies { free(copy) } }
    return try copies.withUnsafeBytes { try body($0.baseAddress!) }
  case .fixedBytes:
    var bytes = [UInt8](repeating: 0, count: max(strings.count * size, 1))
    for (i, s) in strings.enumerated() {
      for (j, byte) in s.utf8.prefix(size).enumerated() { bytes[i * size + j] = byte }
    }
    return try bytes.withUnsafeBytes { try body($0.baseAddress!) }
  }
}

/// The fixed-length size needed for `strings` (numpy uses the longest, at least 1).
func fixedSize(of strings: [String]) -> Int { max(1, strings.map { $0.utf8.count }.max() ?? 1) }
