// Arrays as numpy and h5py users save them: a `.npy` file (one array), a `.npz` (several,
// stored or deflated: np.savez, np.savez_compressed) or an HDF5 file (datasets by path). The
// container is recognised by its first bytes, never by the file name. An array is read a range
// of rows (its first dimension) at a time.

import CShims
import Foundation
import HDF5

/// An opened file of arrays.
public final class ArrayFile: @unchecked Sendable {
  public enum Container: String, Sendable {
    case npy, npz, hdf5
  }

  public let path: String
  public let container: Container
  private let file: OpenFile
  private let zipEntries: [ZipEntry]
  private let hdf5: HDF5File?

  /// Opens `path`, refusing anything that is not a `.npy`, zip or HDF5 file.
  public init(path: String) throws(ArrayError) {
    self.path = path
    file = try OpenFile(path: path)
    let head = try file.read(at: 0, count: min(file.size, 8))
    if head.starts(with: [0x93] + Array("NUMPY".utf8)) {
      container = .npy
      zipEntries = []
      hdf5 = nil
    } else if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
      container = .npz
      zipEntries = try ZipDirectory.entries(of: file)
      hdf5 = nil
    } else if head.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) {
      container = .hdf5
      zipEntries = []
      do {
        hdf5 = try HDF5File.open(path: path)
      } catch {
        throw ArrayError("\(path): cannot open as HDF5: \(error)")
      }
    } else {
      throw ArrayError("\(path): not a .npy, .npz or HDF5 file (by its first bytes)")
    }
  }

  /// The names of the arrays it holds: `.npz` members without `.npy`, HDF5 datasets at the top
  /// level; empty for a `.npy` (its one array has no name).
  public func arrayNames() -> [String] {
    switch container {
    case .npy: return []
    case .npz: return zipEntries.map(\.name).filter { $0.hasSuffix(".npy") }.map { String($0.dropLast(4)) }
    case .hdf5:
      guard let root = hdf5, let names = try? root.memberNames() else { return [] }
      return names.filter { (try? root.memberKind($0)) == .dataset }
    }
  }

  /// Whether an array `name` exists (always false for a `.npy`).
  public func contains(_ name: String) -> Bool {
    switch container {
    case .npy: return false
    case .npz: return zipEntries.contains { $0.name == name + ".npy" }
    case .hdf5: return (try? hdf5?.openDataset(name)) != nil
    }
  }

  /// The array `name` (nil for a `.npy`'s one array). Its header is checked against the file;
  /// a `.npz` member is read through once and its CRC-32 compared, so that a damaged member is
  /// refused now, before anything is computed from it.
  public func array(_ name: String?) throws(ArrayError) -> NumericArray {
    switch container {
    case .npy:
      if let name { throw ArrayError("\(path) is a .npy file: it holds one array, not one named '\(name)'") }
      return try NumericArray(bytes: FileSpan(file: file, start: 0, size: file.size), shownAs: path)
    case .npz:
      let name = name ?? "x"
      guard let entry = zipEntries.first(where: { $0.name == name + ".npy" }) else {
        throw ArrayError("\(path) holds no array '\(name)' (it holds: \(listing()))")
      }
      let shown = "\(path):\(name)"
      let start = try ZipDirectory.dataOffset(of: entry, in: file)
      let source: ByteSource
      switch entry.method {
      case 0:
        guard entry.size == entry.compressedSize else {
          throw ArrayError("\(shown): a stored member whose sizes differ (damaged)")
        }
        source = FileSpan(file: file, start: start, size: entry.size)
      case 8:
        source = DeflatedSpan(
          file: file, start: start, compressedSize: entry.compressedSize, size: entry.size, name: shown)
      default:
        throw ArrayError(
          "\(shown): zip compression method \(entry.method) is not supported (np.savez and np.savez_compressed "
            + "write 0 and 8)")
      }
      try source.verify(crc: entry.crc, name: shown)
      return try NumericArray(bytes: source, shownAs: shown)
    case .hdf5:
      let name = name ?? "x"
      let shown = "\(path):\(name)"
      guard let hdf5, contains(name) else {
        throw ArrayError("\(path) holds no dataset '\(name)' (it holds: \(listing()))")
      }
      do {
        return try NumericArray(dataset: try hdf5.openDataset(name), in: hdf5, shownAs: shown)
      } catch let error as ArrayError {
        throw error
      } catch {
        throw ArrayError("\(shown): \(error)")
      }
    }
  }

  private func listing() -> String {
    let names = arrayNames()
    return names.isEmpty ? "nothing" : names.joined(separator: ", ")
  }
}

/// One array: its element type and shape, and its rows read a range at a time. Reads are
/// serialised by a lock (a deflated member is one stream; HDF5 is not thread-safe here).
public final class NumericArray: @unchecked Sendable {
  /// `file` or `file:name`, for messages.
  public let name: String
  public let element: ArrayElement
  public let shape: [Int]
  private let source: ByteSource?
  private let dataOffset: Int
  private let dataset: HDF5Dataset?
  /// The HDF5 file the dataset is in, kept open as long as the array is read.
  private let file: HDF5File?
  private let lock = NSLock()

  /// The length of the first dimension.
  public var rowCount: Int { shape.first ?? 0 }
  /// Elements per row: the product of the other dimensions (checked for overflow when opened).
  public let rowElements: Int

  init(bytes: ByteSource, shownAs name: String) throws(ArrayError) {
    let prefix = try bytes.read(at: 0, count: min(bytes.size, NpyHeader.maximumPrefixBytes))
    let header = try NpyHeader(prefix: prefix, streamSize: bytes.size, name: name)
    self.name = name
    element = header.element
    shape = header.shape
    source = bytes
    dataOffset = header.dataOffset
    dataset = nil
    file = nil
    rowElements = try elementsPerRow(shape, name: name)
  }

  init(dataset: HDF5Dataset, in file: HDF5File, shownAs name: String) throws {
    self.name = name
    shape = try dataset.shape()
    switch try dataset.elementClass() {
    case .integer(let bytes, let signed): element = signed ? .signed(bytes: bytes) : .unsigned(bytes: bytes)
    case .float(let bytes): element = .float(bytes: bytes)
    default: throw ArrayError("\(name): not a numeric dataset")
    }
    rowElements = try elementsPerRow(shape, name: name)
    source = nil
    dataOffset = 0
    self.dataset = dataset
    self.file = file
  }

  /// Rows `rows` of a uint8 array, row-major: rows.count x rowElements bytes.
  public func bytes(rows: Range<Int>) throws(ArrayError) -> [UInt8] {
    precondition(element == .unsigned(bytes: 1), "bytes(rows:) reads uint8 arrays")
    try checkRows(rows)
    var out = [UInt8](repeating: 0, count: rows.count * rowElements)
    lock.lock()
    defer { lock.unlock() }
    let result = out.withUnsafeMutableBufferPointer { buffer in
      Result { () throws(ArrayError) in
        if let source {
          try source.read(at: dataOffset + rows.lowerBound * rowElements, into: UnsafeMutableRawBufferPointer(buffer))
        } else if let dataset {
          do { try dataset.readRows(rows, into: buffer) } catch { throw ArrayError("\(name): \(error)") }
        }
      }
    }
    try result.get()
    return out
  }

  /// Rows `rows` of any numeric array as Double (labels), row-major.
  public func numbers(rows: Range<Int>) throws(ArrayError) -> [Double] {
    try checkRows(rows)
    let count = rows.count * rowElements
    lock.lock()
    defer { lock.unlock() }
    if let dataset {
      var out = [Double](repeating: 0, count: count)
      let result = out.withUnsafeMutableBufferPointer { buffer in
        Result { () throws(ArrayError) in
          do { try dataset.readRows(rows, into: buffer) } catch { throw ArrayError("\(name): \(error)") }
        }
      }
      try result.get()
      return out
    }
    let width = element.bytes
    let raw = try source!.read(at: dataOffset + rows.lowerBound * rowElements * width, count: count * width)
    return raw.withUnsafeBytes { raw in
      (0..<count).map { i in
        let at = i * width
        switch element {
        case .unsigned(1): return Double(raw[at])
        case .unsigned(2): return Double(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
        case .unsigned(4): return Double(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
        case .unsigned: return Double(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
        case .signed(1): return Double(Int8(bitPattern: raw[at]))
        case .signed(2): return Double(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int16.self)))
        case .signed(4): return Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int32.self)))
        case .signed: return Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int64.self)))
        case .float(4):
          return Double(
            Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))))
        case .float:
          return Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
        }
      }
    }
  }

  private func checkRows(_ rows: Range<Int>) throws(ArrayError) {
    guard rows.lowerBound >= 0, rows.upperBound <= rowCount else {
      throw ArrayError("\(name): rows \(rows) are outside its \(rowCount) rows")
    }
  }
}

/// The product of all but the first extent; with no rows the whole product says nothing about
/// it, so it is checked for overflow on its own.
private func elementsPerRow(_ shape: [Int], name: String) throws(ArrayError) -> Int {
  var elements = 1
  for extent in shape.dropFirst() {
    let (product, overflow) = elements.multipliedReportingOverflow(by: extent)
    guard !overflow, extent >= 0 else { throw ArrayError("\(name): its shape \(shape) is too large") }
    elements = product
  }
  return elements
}
