// Which images a run predicts, and the path each is reported under.
//
// One folder: every non-hidden file below it, paths relative to it and sorted bytewise, exactly
// as `extract` lists a folder (so a prediction row and a feature-file row of the same image
// carry the same path). Several folders or files: each file under the path it was reached by
// (`folder/relative/path`, or the file as given), the whole list sorted the same way.

import Extraction
import Foundation

/// The images of one run.
public struct ImageList: Sendable, Equatable {
  /// The folder `paths` are relative to; empty when they are usable as they are.
  public var root: String
  /// Reported paths, sorted bytewise, no duplicates.
  public var paths: [String]

  /// Lists `inputs` (folders and files). A missing input, or no file at all, is a usage error.
  public static func collect(_ inputs: [String]) throws -> ImageList {
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
      let paths = try listFolder(folder)
      guard !paths.isEmpty else { throw PredictError.usage("--images \(folder): the folder holds no files") }
      return ImageList(root: folder, paths: paths)
    }
    var paths = files
    for folder in folders {
      let prefix = folder.hasSuffix("/") ? folder : folder + "/"
      paths += try listFolder(folder).map { prefix + $0 }
    }
    guard !paths.isEmpty else {
      throw PredictError.usage("--images \(inputs.joined(separator: " ")): no files found")
    }
    return ImageList(root: "", paths: Dataset.sortedBytewise(Array(Set(paths))))
  }

  private static func listFolder(_ folder: String) throws -> [String] {
    do {
      return try Dataset.listFiles(root: folder)
    } catch let error as ExtractError {
      throw PredictError.usage(error.description)
    }
  }
}
