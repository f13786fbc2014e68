// Which files an extraction covers, and their labels.
//
// Three layouts (Datasets/README.md shows each):
//  * a folder per class, like Keras' flow_from_directory: column `class` from the first
//    folder level;
//  * folder names split on `_` into several columns (`--dir-labels color,type`, so
//    `black_jeans/` gives color=black, type=jeans);
//  * a CSV manifest (`--labels file.csv`): the first column is the path relative to the image
//    root, the others are labels. The manifest then defines the dataset.
// Rows are always sorted bytewise by relative path, so a run is reproducible anywhere. Which
// files a folder contributes (hidden files, links, names that are not UTF-8) is
// FolderListing.swift's rule; paths are always in their stored form (FeatureStore/StoredPath.swift).

import FeatureStore
import Foundation

/// How labels are found.
public enum LabelSource: Equatable, Sendable {
  /// The first folder level names the class (column `class`); no column when no file is in a folder.
  case folders
  /// The first folder level split on `_` into these columns.
  case splitFolders([String])
  /// A CSV manifest at this path.
  case csv(String)
}

/// The files of one extraction and their label columns, rows sorted by relative path.
public struct Dataset: Sendable {
  /// Paths relative to the image root, sorted bytewise.
  public var paths: [String]
  /// Label columns aligned with `paths`.
  public var labels: [LabelColumn]
  /// Manifest rows whose file does not exist: recorded as failed, never extracted.
  public var missing: [String]
  /// What the folder's listing left out, by rule (nothing with a manifest: it names the images).
  public var skipped = SkippedFiles()

  /// Lists the image root and attaches labels; hidden files are read only with `includeHidden`
  /// (a manifest reads what it lists, hidden or not). Throws `.usage` for problems the user must fix.
  public static func load(root: String, labels source: LabelSource, includeHidden: Bool = false) throws -> Dataset {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw ExtractError.usage("--images \(root): no such folder")
    }
    switch source {
    case .folders:
      let listing = try listFolder(root: root, includeHidden: includeHidden)
      let paths = listing.paths
      let folders = paths.map(firstFolder)
      if folders.allSatisfy({ $0 == nil }) {
        return Dataset(paths: paths, labels: [], missing: [], skipped: listing.skipped)
      }
      return Dataset(
        paths: paths, labels: [categorical(name: "class", values: folders)], missing: [], skipped: listing.skipped)
    case .splitFolders(let columns):
      let listing = try listFolder(root: root, includeHidden: includeHidden)
      let paths = listing.paths
      var values = [[String?]](repeating: [], count: columns.count)
      for path in paths {
        guard let folder = firstFolder(path) else {
          throw ExtractError.usage(
            "--dir-labels: \(path) is not inside a folder, so it has no \(columns.joined(separator: "_")) labels")
        }
        let parts = folder.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == columns.count else {
          throw ExtractError.usage(
            "--dir-labels \(columns.joined(separator: ",")): folder '\(folder)' splits on '_' into \(parts.count) "
              + "part(s), expected \(columns.count)")
        }
        for (column, part) in parts.enumerated() { values[column].append(part.isEmpty ? nil : part) }
      }
      let labels = zip(columns, values).map { categorical(name: $0, values: $1) }
      return Dataset(paths: paths, labels: labels, missing: [], skipped: listing.skipped)
    case .csv(let csvPath):
      return try fromManifest(root: root, csvPath: csvPath)
    }
  }

  /// The folder's listing; a folder with no file to read is a usage error that says what was
  /// left out (all of it hidden, say).
  static func listFolder(root: String, includeHidden: Bool) throws -> FolderListing {
    let listing = try FolderListing.list(root: root, includeHidden: includeHidden)
    guard listing.paths.isEmpty else { return listing }
    let left = listing.skipped.clauses
    throw ExtractError.usage(
      "--images \(root): the folder holds no files"
        + (left.isEmpty ? "" : " to read (" + left.joined(separator: "; ") + ")"))
  }

  /// Sorted by the paths' UTF-8 bytes, the order of a feature file's rows.
  public static func sortedBytewise(_ paths: [String]) -> [String] {
    paths.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
  }

  static func firstFolder(_ path: String) -> String? {
    guard let slash = path.firstIndex(of: "/") else { return nil }
    return String(path[..<slash])
  }

  /// A categorical column; classes sorted like flow_from_directory sorts class folders.
  static func categorical(name: String, values: [String?]) -> LabelColumn {
    LabelColumn.categorical(name: name, values: values)
  }

  static func fromManifest(root: String, csvPath: String) throws -> Dataset {
    let table: CSVTable
    do {
      table = try CSVTable(contentsOf: csvPath)
    } catch let error as CSVError {
      throw ExtractError.usage("--labels \(csvPath): \(error.problem)")
    }
    guard table.header.count >= 1 else { throw ExtractError.usage("--labels \(csvPath): no header row") }
    var seen = Set<String>()
    var rows: [(path: String, cells: [String])] = []
    for (number, row) in table.rows.enumerated() {
      let path = normalise(row[0])
      guard !path.isEmpty else { throw ExtractError.usage("--labels \(csvPath): row \(number + 2) has no path") }
      guard seen.insert(path).inserted else {
        throw ExtractError.usage("--labels \(csvPath): path '\(path)' is listed twice")
      }
      rows.append((path, Array(row.dropFirst())))
    }
    guard !rows.isEmpty else { throw ExtractError.usage("--labels \(csvPath): the manifest lists no images") }
    var present: [(path: String, cells: [String])] = []
    var missing: [String] = []
    for row in rows {
      if storedPathExists(root: root, stored: row.path) { present.append(row) } else { missing.append(row.path) }
    }
    let order = present.indices.sorted {
      Array(present[$0].path.utf8).lexicographicallyPrecedes(Array(present[$1].path.utf8))
    }
    present = order.map { present[$0] }
    var labels: [LabelColumn] = []
    for (column, name) in table.header.dropFirst().enumerated() {
      labels.append(.inferred(name: name, cells: present.map { $0.cells[column] }))
    }
    return Dataset(paths: present.map(\.path), labels: labels, missing: sortedBytewise(missing))
  }

  static func normalise(_ path: String) -> String { normalisedRelativePath(path) }
}
