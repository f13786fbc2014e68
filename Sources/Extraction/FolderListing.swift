// Which files below a folder a run reads: the one listing rule `extract`, `finetune` and
// `predict` share, so that a feature-file row, a fine-tuning row and a prediction line of the
// same image carry the same path. Every regular file is either listed or counted here:
//
//  * Every regular file at any depth is listed, and so is a symbolic link to one (Python's
//    `os.walk`, which Keras' flow_from_directory uses, lists links among the files). A link that
//    leads nowhere is listed too: it then fails to open and is named in /failed, not dropped.
//  * Hidden files -- a name starting with '.', or any file inside a folder whose name starts
//    with '.' -- are skipped unless `includeHidden`, and counted. Keras reads them when their
//    extension is an image's, but what they hold is mostly not the user's images: macOS'
//    `._photo.jpg` AppleDouble companions (a `.jpg` name, no JPEG inside), `.DS_Store`,
//    `.ipynb_checkpoints/`, `.git/`, editors' and sync tools' temporary copies.
//  * Links to folders are not followed (Keras' `follow_links=False`), and are counted.
//  * A folder below the root that cannot be read (permissions) is named, with the reason.
//  * Other entries (pipes, sockets, devices) are not files to read.
//
// Names are read as the raw bytes the file system holds, never decoded, so a name that is not
// valid UTF-8 (`caf\xe9.jpg`) is listed like any other, in its stored form (`escapePath`).
// Paths are sorted bytewise by that stored form, the order of a feature file's rows.

import FeatureStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What a folder's listing left out, by rule: each is reported in the command's summary.
public struct SkippedFiles: Sendable, Equatable {
  /// Hidden files not listed (0 when hidden files are included).
  public var hidden = 0
  /// Links to folders, not followed: stored paths relative to the root, sorted.
  public var linkedFolders: [String] = []
  /// Folders that could not be read: "stored path: reason", sorted.
  public var unreadableFolders: [String] = []

  public init() {}

  /// Nothing was left out.
  public var isEmpty: Bool { hidden == 0 && linkedFolders.isEmpty && unreadableFolders.isEmpty }

  /// One clause per rule that left something out, for a summary line: "1 hidden file skipped
  /// (--include-hidden reads them)".
  public var clauses: [String] {
    var clauses: [String] = []
    if hidden > 0 {
      clauses.append("\(hidden) hidden file\(hidden == 1 ? "" : "s") skipped (--include-hidden reads them)")
    }
    if let first = linkedFolders.first {
      let count = linkedFolders.count
      clauses.append(
        count == 1
          ? "1 link to a folder not followed (\(first))" : "\(count) links to folders not followed (\(first), ...)")
    }
    if let first = unreadableFolders.first {
      let count = unreadableFolders.count
      clauses.append(
        count == 1 ? "1 folder could not be read (\(first))" : "\(count) folders could not be read (\(first), ...)")
    }
    return clauses
  }
}

/// The files below one folder that a run reads, and what was left out.
public struct FolderListing: Sendable, Equatable {
  /// Stored paths (`escapePath`) relative to the folder, sorted bytewise.
  public var paths: [String]
  public var skipped: SkippedFiles

  /// Lists `root` by the rule above. A root that does not exist or cannot be read is a `.usage`
  /// error; a folder below it that cannot be read is named in `skipped`.
  public static func list(root: String, includeHidden: Bool) throws -> FolderListing {
    var paths: [String] = []
    var skipped = SkippedFiles()
    // Folders still to read: the path relative to the root, and whether it is hidden.
    var pending: [(relative: [UInt8], hidden: Bool)] = [([], false)]
    while let next = pending.popLast() {
      let (folder, folderHidden) = next
      let entries: [(name: [UInt8], kind: EntryKind)]
      do {
        entries = try readFolder(Array(root.utf8) + (folder.isEmpty ? [] : [UInt8(ascii: "/")] + folder))
      } catch let error as FolderError {
        if folder.isEmpty { throw ExtractError.usage("--images \(root): cannot list the folder: \(error.reason)") }
        skipped.unreadableFolders.append("\(escapePath(folder)): \(error.reason)")
        continue
      }
      for (name, kind) in entries {
        let relative = folder.isEmpty ? name : folder + [UInt8(ascii: "/")] + name
        let hidden = folderHidden || name.first == UInt8(ascii: ".")
        let read = includeHidden || !hidden
        switch kind {
        case .folder:
          pending.append((relative, hidden))
        case .file:
          if read { paths.append(escapePath(relative)) } else { skipped.hidden += 1 }
        case .linkToFolder:
          if read { skipped.linkedFolders.append(escapePath(relative)) }
        case .other:
          continue
        }
      }
    }
    skipped.linkedFolders = Dataset.sortedBytewise(skipped.linkedFolders)
    skipped.unreadableFolders = Dataset.sortedBytewise(skipped.unreadableFolders)
    return FolderListing(paths: Dataset.sortedBytewise(paths), skipped: skipped)
  }
}

/// Whether a stored path names something that exists below `root` (following links).
func storedPathExists(root: String, stored: String) -> Bool {
  let path = filePathBytes(root: root, stored: stored)
  guard !path.contains(0) else { return false }
  return access(path.map { CChar(bitPattern: $0) } + [0], F_OK) == 0
}

/// What a folder entry is, for the listing rule.
private enum EntryKind {
  /// A regular file, a link to one, or a link that leads nowhere.
  case file
  case folder
  case linkToFolder
  /// A pipe, socket or device, or a link to one.
  case other
}

private struct FolderError: Error {
  var reason: String
}

/// The entries of one folder (without `.` and `..`), names as raw bytes.
private func readFolder(_ path: [UInt8]) throws -> [(name: [UInt8], kind: EntryKind)] {
  let cPath = path.map { CChar(bitPattern: $0) } + [0]
  guard let folder = opendir(cPath) else { throw FolderError(reason: String(cString: strerror(errno))) }
  defer { closedir(folder) }
  var entries: [(name: [UInt8], kind: EntryKind)] = []
  while true {
    errno = 0
    guard let entry = readdir(folder) else {
      if errno != 0 { throw FolderError(reason: String(cString: strerror(errno))) }
      return entries
    }
    let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
    if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
    let kind: EntryKind
    switch Int(entry.pointee.d_type) {
    case Int(DT_REG): kind = .file
    case Int(DT_DIR): kind = .folder
    case Int(DT_LNK), Int(DT_UNKNOWN): kind = entryKind(path + [UInt8(ascii: "/")] + name)
    default: kind = .other
    }
    entries.append((name, kind))
  }
}

/// The kind of the entry at `path` from the file system, for links and for file systems that
/// do not report kinds in their folder listings.
private func entryKind(_ path: [UInt8]) -> EntryKind {
  let cPath = path.map { CChar(bitPattern: $0) } + [0]
  var status = stat()
  guard lstat(cPath, &status) == 0 else { return .file }  // gone meanwhile: opening it says why
  let isLink = status.st_mode & mode_t(S_IFMT) == mode_t(S_IFLNK)
  if isLink {
    guard stat(cPath, &status) == 0 else { return .file }  // leads nowhere: opening it says why
  }
  switch status.st_mode & mode_t(S_IFMT) {
  case mode_t(S_IFREG): return .file
  case mode_t(S_IFDIR): return isLink ? .linkToFolder : .folder
  default: return .other
  }
}
