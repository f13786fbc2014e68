// Which images a run predicts, and the path each is reported under.
//
// One folder: the files extract would list (Extraction/FolderListing.swift: hidden files skipped
// and counted unless --include-hidden, names that are not UTF-8 in their stored form), paths
// relative to it and sorted bytewise, exactly as `extract` lists a folder (so a prediction row
// and a feature-file row of the same image carry the same path). Several folders or files: each
// file under the path it was reached by (`folder/relative/path`, or the file as given, in the
// same stored form), the whole list sorted the same way.

import Extraction
import FeatureStore
import Foundation

/// The images of one run.
public struct ImageList: Sendable, Equatable {
  /// The folder `paths` are relative to; empty when they are usable as they are.
  public var root: String
  /// Reported paths (stored forms, FeatureStore/StoredPath.swift), sorted bytewise, no duplicates.
  public var paths: [String]
  /// What the folders' listings left out, by rule, all folders together.
  public var skipped = SkippedFiles()

  /// Lists `inputs` (folders and files). A missing input, or no file at all, is a usage error.
  /// Hidden files inside folders are read only with `includeHidden`; a file given by name always is.
  public static func collect(_ inputs: [String], includeHidden: Bool = false) throws -> ImageList {
    guard !inputs.isEmpty else { throw PredictError.usage("--images: give at least one folder or image file") }
    var folders: [String] = []
    var files: [String] = []
    for input in inputs {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
        throw PredictError.usage("--images \(input): no such file or folder")
      }
      if isDirectory.boolValue { folders.append(input) } else { files.append(input) }
    }
    if inputs.count == 1, let folder = folders.first {
      let listing = try listFolder(folder, includeHidden: includeHidden)
      guard !listing.paths.isEmpty else {
        let left = listing.skipped.clauses
        throw PredictError.usage(
          "--images \(folder): the folder holds no files"
            + (left.isEmpty ? "" : " to read (" + left.joined(separator: "; ") + ")"))
      }
      return ImageList(root: folder, paths: listing.paths, skipped: listing.skipped)
    }
    // A folder or file given on the command line is a text path; stored forms escape its
    // backslashes too, so that every reported path maps back to its file one way.
    var paths = files.map { escapePath($0.utf8) }
    var skipped = SkippedFiles()
    for folder in folders {
      let prefix = escapePath(folder.utf8) + (folder.hasSuffix("/") ? "" : "/")
      let listing = try listFolder(folder, includeHidden: includeHidden)
      paths += listing.paths.map { prefix + $0 }
      skipped.hidden += listing.skipped.hidden
      skipped.linkedFolders += listing.skipped.linkedFolders.map { prefix + $0 }
      skipped.unreadableFolders += listing.skipped.unreadableFolders.map { prefix + $0 }
    }
    guard !paths.isEmpty else {
      throw PredictError.usage("--images \(inputs.joined(separator: " ")): no files found")
    }
    return ImageList(root: "", paths: Dataset.sortedBytewise(Array(Set(paths))), skipped: skipped)
  }

  private static func listFolder(_ folder: String, includeHidden: Bool) throws -> FolderListing {
    do {
      return try FolderListing.list(root: folder, includeHidden: includeHidden)
    } catch let error as ExtractError {
      throw PredictError.usage(error.description)
    }
  }
}
