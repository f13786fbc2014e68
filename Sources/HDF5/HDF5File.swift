// Opening and creating HDF5 files. A file is also its root group.
import CHDF5
import CShims

/// How an existing file is opened.
public enum HDF5FileMode: Sendable {
  case readOnly
  case readWrite
}

/// An open HDF5 file; as a group it is the root group "/".
public final class HDF5File: HDF5Group {
  /// Creates a new file at `path`, replacing an existing one when `overwrite` is true.
  /// Object modification times are not recorded, so identical content gives identical bytes.
  /// Its datasets carry Fletcher-32 checksums (HDF5Dataset+Checksum.swift) unless `checksums`
  /// is false, which writes the layout of earlier versions (for tests of old files).
  public static func create(path: String, overwrite: Bool = true, checksums: Bool = true) throws -> HDF5File {
    let fcpl = try untimedCreationProperties(hs_p_file_create(), object: path)
    defer { H5Pclose(fcpl) }
    let flags = overwrite ? hs_f_acc_trunc() : hs_f_acc_excl()
    let fapl = try accessProperties(path)
    defer { H5Pclose(fapl) }
    let file = try h5call("create file", path) { H5Fcreate(path, flags, fcpl, fapl) }
    return HDF5File(handle: H5Handle(file, closer: H5Fclose), fileName: path, path: "/", writesChecksums: checksums)
  }

  /// Opens the existing file at `path`. Datasets created in it carry checksums.
  public static func open(path: String, mode: HDF5FileMode = .readOnly) throws -> HDF5File {
    hs_silence_errors()
    // H5Fopen's own message for a non-HDF5 file is a generic "unable to open file"; ask first
    // so the error says what is wrong.
    let isHDF5 = H5Fis_hdf5(path)
    if isHDF5 == 0 {
      _ = takeHDF5Message()
      throw HDF5Error(operation: "open file", object: path, reason: "it is not an HDF5 file")
    }
    if isHDF5 < 0 {
      _ = takeHDF5Message()
      throw HDF5Error(operation: "open file", object: path, reason: "it does not exist or cannot be read")
    }
    // Files opened for writing are Headstart's own, being written or resumed (and a child
    // could flush their unwritten metadata); every file opened for reading may be untrusted.
    let checked = mode == .readOnly ? try preflight(path) : false
    let flags = mode == .readOnly ? hs_f_acc_rdonly() : hs_f_acc_rdwr()
    let fapl = try accessProperties(path)
    defer { H5Pclose(fapl) }
    let file = try h5call("open file", path) { H5Fopen(path, flags, fapl) }
    if checked { hs_preflight_passed(file) }
    return HDF5File(handle: H5Handle(file, closer: H5Fclose), fileName: path, path: "/", writesChecksums: true)
  }

  /// File access properties: closing the file closes every object still open in it and writes
  /// everything out at once, so a failed write (a full disk) is an error of `close()`. With
  /// HDF5's default ("weak") closing, a dataset or group still referenced when the file is closed
  /// keeps the file open, and its last writes fail later, unreported (a full disk then left a
  /// file that looked finished and could not be read).
  private static func accessProperties(_ path: String) throws -> hid_t {
    let fapl = try h5call("create access properties for", path) { H5Pcreate(hs_p_file_access()) }
    do {
      try h5call("set the close degree of", path) { H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) }
    } catch {
      H5Pclose(fapl)
      throw error
    }
    return fapl
  }

  /// Opens `path`, runs `body`, and closes the file whether or not `body` throws.
  public static func withFile<R>(
    _ path: String, mode: HDF5FileMode = .readOnly, _ body: (HDF5File) throws -> R
  ) throws -> R {
    try closing(open(path: path, mode: mode), body)
  }

  /// Creates `path`, runs `body`, and closes (flushes) the file whether or not `body` throws.
  public static func withNewFile<R>(
    _ path: String, overwrite: Bool = true, checksums: Bool = true, _ body: (HDF5File) throws -> R
  ) throws -> R {
    try closing(create(path: path, overwrite: overwrite, checksums: checksums), body)
  }

  /// Runs `body` on `file` and closes it either way; if `body` throws, its error wins over
  /// one from closing.
  private static func closing<R>(_ file: HDF5File, _ body: (HDF5File) throws -> R) throws -> R {
    let result: R
    do {
      result = try body(file)
    } catch {
      try? file.close()
      throw error
    }
    try file.close()
    return result
  }

  /// Writes buffered data to disk without closing.
  public func flush() throws {
    try h5call("flush", fileName) { H5Fflush(id, H5F_SCOPE_LOCAL) }
  }
}
