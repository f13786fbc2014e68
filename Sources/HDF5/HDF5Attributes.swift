// Attributes on files, groups and datasets: strings (scalar or arrays, fixed or variable
// length), integers (stored as int64, as h5py stores Python ints), doubles, integer arrays.
import CHDF5
import CShims

extension HDF5Location {
  /// Whether the attribute `name` exists on this object.
  public func hasAttribute(_ name: String) throws -> Bool {
    try h5call("look up attribute \(name) on", displayName) { H5Aexists(id, name) } > 0
  }

  /// The names of all attributes, in name order.
  public func attributeNames() throws -> [String] {
    final class Names { var list: [String] = [] }
    let names = Names()
    var index: hsize_t = 0
    try h5call("list attributes of", displayName) {
      H5Aiterate2(
        id, H5_INDEX_NAME, H5_ITER_INC, &index,
        { _, name, _, context in
          let names = Unmanaged<Names>.fromOpaque(context!).takeUnretainedValue()
          names.list.append(String(cString: name!))
          return 0
        }, Unmanaged.passUnretained(names).toOpaque())
    }
    return names.list
  }

  /// Removes the attribute `name` if it exists.
  public func deleteAttribute(_ name: String) throws {
    if try hasAttribute(name) {
      try h5call("delete attribute \(name) of", displayName) { H5Adelete(id, name) }
    }
  }

  // MARK: Writing

  /// Writes (or replaces) a scalar string attribute.
  public func setAttribute(_ name: String, string: String, storage: HDF5StringStorage = .variableUTF8)
    throws
  {
    try writeStringAttribute(name, [string], shape: [], storage: storage)
  }

  /// Writes (or replaces) a 1-D string array attribute.
  public func setAttribute(
    _ name: String, strings: [String], storage: HDF5StringStorage = .variableUTF8
  ) throws {
    try writeStringAttribute(name, strings, shape: [strings.count], storage: storage)
  }

  /// Writes (or replaces) a scalar int64 attribute.
  public func setAttribute(_ name: String, int: Int) throws {
    try setAttribute(name, int64s: [Int64(int)], shape: [])
  }

  /// Writes (or replaces) a 1-D int64 array attribute.
  public func setAttribute(_ name: String, ints: [Int]) throws {
    try setAttribute(name, int64s: ints.map { Int64($0) }, shape: [ints.count])
  }

  /// Writes (or replaces) a 1-D float64 array attribute (Keras stores an empty `weight_names`
  /// as an empty float64 array).
  public func setAttribute(_ name: String, doubles: [Double]) throws {
    try setAttribute(name, float64s: doubles, shape: [doubles.count])
  }

  /// Writes (or replaces) a scalar float64 attribute.
  public func setAttribute(_ name: String, double: Double) throws {
    try setAttribute(name, float64s: [double], shape: [])
  }

  private func setAttribute(_ name: String, int64s values: [Int64], shape: [Int]) throws {
    let padded = values + [0]  // one spare so an empty array still has an address
    try padded.withUnsafeBytes { raw in
      try writeAttribute(
        name, fileType: hs_std_i64le(), memType: hs_native_int64(), shape: shape, buffer: raw.baseAddress!)
    }
  }

  private func setAttribute(_ name: String, float64s values: [Double], shape: [Int]) throws {
    let padded = values + [0]  // one spare so an empty array still has an address
    try padded.withUnsafeBytes { raw in
      try writeAttribute(
        name, fileType: hs_ieee_f64le(), memType: hs_native_double(), shape: shape, buffer: raw.baseAddress!)
    }
  }

  private func writeStringAttribute(
    _ name: String, _ strings: [String], shape: [Int], storage: HDF5StringStorage
  ) throws {
    let size = fixedSize(of: strings)
    let type = try makeStringType(storage, size: size, object: display(name))
    defer { H5Tclose(type) }
    try withStringBuffer(strings, storage: storage, size: size) { buffer in
      try writeAttribute(name, fileType: type, memType: type, shape: shape, buffer: buffer)
    }
  }

  private func writeAttribute(
    _ name: String, fileType: hid_t, memType: hid_t, shape: [Int], buffer: UnsafeRawPointer
  ) throws {
    let what = "attribute \(name) of \(displayName)"
    if try hasAttribute(name) {
      if try rewriteInPlace(
        name, fileType: fileType, memType: memType, shape: shape, buffer: buffer)
      {
        return
      }
      try deleteAttribute(name)
    }
    let space = try makeDataspace(shape: shape, object: what)
    defer { H5Sclose(space) }
    let attr = try h5call("create", what) {
      H5Acreate2(id, name, fileType, space, hs_p_default(), hs_p_default())
    }
    defer { H5Aclose(attr) }
    if shape.reduce(1, *) > 0 {
      try h5call("write", what) { H5Awrite(attr, memType, buffer) }
    }
  }

  /// Overwrites an existing attribute of the same type and shape without recreating it, so a
  /// flag such as `complete` changes in place (no moment at which it is missing).
  private func rewriteInPlace(
    _ name: String, fileType: hid_t, memType: hid_t, shape: [Int], buffer: UnsafeRawPointer
  ) throws -> Bool {
    try withOpenAttribute(name) { what, attr, type, space in
      let sameType = try h5call("compare type of", what) { H5Tequal(type, fileType) } > 0
      guard sameType, try dataspaceShape(space, object: what) == shape,
        H5Sget_simple_extent_type(space) == (shape.isEmpty ? H5S_SCALAR : H5S_SIMPLE)
      else { return false }
      if shape.reduce(1, *) > 0 {
        try h5call("write", what) { H5Awrite(attr, memType, buffer) }
      }
      return true
    }
  }

  // MARK: Reading

  /// Reads a string attribute that holds exactly one string (scalar or one-element array).
  public func stringAttribute(_ name: String) throws -> String {
    let strings = try stringsAttribute(name)
    return try onlyValue(strings, of: name, kind: "string")
  }

  /// Reads a string attribute (fixed or variable length, scalar or array) as an array.
  public func stringsAttribute(_ name: String) throws -> [String] {
    try withAttribute(name) { try $0.readStrings() }
  }

  /// Reads a scalar (or one-element) integer attribute.
  public func intAttribute(_ name: String) throws -> Int {
    let values = try intsAttribute(name)
    return try onlyValue(values, of: name, kind: "integer")
  }

  /// Reads an integer attribute as an array (any integer type, converted by HDF5).
  public func intsAttribute(_ name: String) throws -> [Int] {
    try withAttribute(name) { try $0.readNumbers(memType: hs_native_int64(), zero: Int64(0)) }.map { Int($0) }
  }

  /// Reads a scalar (or one-element) numeric attribute as a double.
  public func doubleAttribute(_ name: String) throws -> Double {
    let values = try withAttribute(name) { try $0.readNumbers(memType: hs_native_double(), zero: 0.0) }
    return try onlyValue(values, of: name, kind: "number")
  }

  /// The element class of attribute `name`.
  public func attributeElementClass(_ name: String) throws -> HDF5ElementClass {
    try withAttribute(name) { elementClass(of: $0.fileType) }
  }

  /// The single value of a one-value attribute; `kind` ("string", "integer", "number") names
  /// what was expected in the error.
  private func onlyValue<T>(_ values: [T], of name: String, kind: String) throws -> T {
    guard values.count == 1 else {
      throw HDF5Error(
        operation: "read attribute \(name) of", object: displayName,
        reason: "expected one \(kind), found \(values.count)")
    }
    return values[0]
  }

  private func withAttribute<R>(_ name: String, _ body: (H5Readable) throws -> R) throws -> R {
    try withOpenAttribute(name) { what, attr, type, space in
      let stored = Int(clamping: H5Aget_storage_size(attr))
      let readable = H5Readable(
        object: what, fileType: type, space: space, storedBytes: stored, id: attr, isAttribute: true
      ) { memType, buffer in
        try h5call("read", what) { H5Aread(attr, memType, buffer) }
      }
      return try body(readable)
    }
  }

  /// Opens attribute `name` with its file type and dataspace for `body`, closing all three
  /// afterwards; `what` is the attribute's name for error messages. Reading and in-place
  /// rewriting both start here, so they open and report the same way.
  private func withOpenAttribute<R>(
    _ name: String, _ body: (_ what: String, _ attr: hid_t, _ type: hid_t, _ space: hid_t) throws -> R
  ) throws -> R {
    let what = "attribute \(name) of \(displayName)"
    let attr = try h5call("open", what) { H5Aopen(id, name, hs_p_default()) }
    defer { H5Aclose(attr) }
    let type = try h5call("read type of", what) { H5Aget_type(attr) }
    defer { H5Tclose(type) }
    let space = try h5call("read shape of", what) { H5Aget_space(attr) }
    defer { H5Sclose(space) }
    return try body(what, attr, type, space)
  }
}
