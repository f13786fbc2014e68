// The common base of files, groups and datasets: an open HDF5 object with a name that error
// messages can quote, and attributes.
import CHDF5
import CShims

/// An open HDF5 object (file, group or dataset). Closed when the last reference goes away, or
/// explicitly with `close()`.
public class HDF5Location {
  let handle: H5Handle
  /// The file this object lives in, as given when it was opened.
  public let fileName: String
  /// The object's path inside the file ("/" for the root).
  public let path: String
  /// Whether datasets created below this object carry Fletcher-32 checksums (every file
  /// Headstart writes; `HDF5File.create(path:overwrite:checksums:)` can turn it off to write the
  /// layout of earlier versions).
  public let writesChecksums: Bool

  init(handle: H5Handle, fileName: String, path: String, writesChecksums: Bool) {
    self.handle = handle
    self.fileName = fileName
    self.path = path
    self.writesChecksums = writesChecksums
  }

  var id: hid_t { handle.id }

  /// "file.h5:/group/name", for messages.
  public var displayName: String { "\(fileName):\(path)" }

  func childPath(_ name: String) -> String {
    if name.hasPrefix("/") { return name }
    return path == "/" ? "/" + name : path + "/" + name
  }

  func display(_ name: String) -> String { "\(fileName):\(childPath(name))" }

  /// Closes the object now; later use of it is a programmer error.
  public func close() throws { try handle.close(displayName) }
}

/// Group and dataset creation properties that leave out modification times, so the same
/// content written twice gives byte-identical files.
func untimedCreationProperties(_ propertyClass: hid_t, object: String) throws -> hid_t {
  let plist = try h5call("create properties for", object) { H5Pcreate(propertyClass) }
  do {
    try h5call("disable time tracking for", object) { H5Pset_obj_track_times(plist, false) }
  } catch {
    H5Pclose(plist)
    throw error
  }
  return plist
}
