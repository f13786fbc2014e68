// Writing a file so that its path only ever holds a complete one: the contents go to a temporary
// name beside it, `PATH.writing`, which is renamed over PATH in one step at the end. Every file
// Headstart finishes (feature files, heads files, models, checkpoints, predictions) is written
// this way, here. The temporary file is fsync'd before the rename and the folder after it, so
// after a power cut PATH holds the old file or the complete new one, and a journal or checkpoint
// removed after the rename is never the only copy of the work.

import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A finished temporary file that could not be renamed into place.
public struct AtomicReplaceError: Error, CustomStringConvertible, Sendable {
  public var path: String
  public var reason: String
  public var description: String { "cannot move the finished file to \(path): \(reason)" }
}

public enum AtomicFile {
  /// The temporary name a file is written under before it is renamed to `path`.
  public static func temporaryPath(for path: String) -> String { path + ".writing" }

  /// Calls `write` with the temporary path (any old temporary removed first), then renames it over
  /// `path`. When `write` throws, or the rename fails (`AtomicReplaceError`), the temporary file is
  /// removed and `path` is left as it was.
  public static func replace(_ path: String, write: (_ temporary: String) throws -> Void) throws {
    let temporary = temporaryPath(for: path)
    unlink(temporary)
    do {
      try write(temporary)
    } catch {
      unlink(temporary)
      throw error
    }
    try commit(temporary, to: path)
  }

  /// Renames the finished `temporary` over `path` in one step; on failure removes `temporary` and
  /// throws `AtomicReplaceError`.
  public static func commit(_ temporary: String, to path: String) throws {
    guard sync(temporary), rename(temporary, path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      throw AtomicReplaceError(path: path, reason: reason)
    }
    // The new name's durability; the file is in place either way, so a folder that cannot be
    // synced (some FUSE file systems refuse) is not an error.
    let folder = (path as NSString).deletingLastPathComponent
    _ = sync(folder.isEmpty ? "." : folder)
  }

  /// fsync of a file or folder (opened read-only, which Linux allows for both); false with errno
  /// set when it fails.
  private static func sync(_ path: String) -> Bool {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return fsync(fd) == 0
  }
}
