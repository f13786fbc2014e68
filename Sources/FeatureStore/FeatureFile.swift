// Reading a feature file whole. A file whose `complete` attribute is 0 was interrupted: it
// reads with `complete == false`, its rows so far, and no paths or labels.
import HDF5

/// The contents of a feature file.
public struct FeatureFile: Sendable, Equatable {
  /// How the features were made.
  public var attributes: FeatureFileAttributes
  /// Whether the writer finished.
  public var complete: Bool
  /// Image paths relative to the image root, one per row.
  public var paths: [String]
  /// Row-major features, N x `dimension`.
  public var features: [Float]
  /// The row width D.
  public var dimension: Int
  /// Label columns, in name order.
  public var labels: [LabelColumn]
  /// Images that could not be used, and why.
  public var failedPaths: [String]
  public var failedReasons: [String]

  /// The file's row count when it was read without its features, else nil (set it to nil after
  /// filling `features` with every row).
  public var unreadRows: Int? = nil

  /// The number of rows N.
  public var rowCount: Int { unreadRows ?? (dimension == 0 ? 0 : features.count / dimension) }

  /// Reads the feature file at `path`. Without `features`, `features` stays empty (`rowCount`
  /// and `dimension` are still the file's): for files read a range of rows at a time with
  /// `FeatureRowReader`.
  public static func read(path: String, features loadFeatures: Bool = true) throws -> FeatureFile {
    let file: HDF5File
    do {
      file = try HDF5File.open(path: path)
    } catch let error as HDF5Error {
      throw FeatureFileError(path: path, problem: "cannot be opened: \(error.reason)")
    }
    defer { try? file.close() }
    guard try file.hasAttribute(AttributeName.formatVersion), try file.exists(DatasetName.features) else {
      throw FeatureFileError(path: path, problem: "is an HDF5 file but not a Headstart feature file")
    }
    let version = try file.intAttribute(AttributeName.formatVersion)
    guard version == featureFileFormatVersion else {
      throw FeatureFileError(
        path: path,
        problem: "has format version \(version); this Headstart reads version \(featureFileFormatVersion)")
    }
    let features = try file.openDataset(DatasetName.features)
    let shape = try features.shape()
    guard shape.count == 2 else {
      throw FeatureFileError(path: path, problem: "/features has shape \(shape), expected (N, D)")
    }
    let complete = try file.intAttribute(AttributeName.complete) == 1
    let paths = try optionalStrings(file, DatasetName.paths)
    guard !complete || paths.count == shape[0] else {
      throw FeatureFileError(path: path, problem: "has \(paths.count) paths for \(shape[0]) feature rows")
    }
    return FeatureFile(
      attributes: try readAttributes(file), complete: complete, paths: paths,
      features: loadFeatures ? try features.readFloats() : [], dimension: shape[1],
      labels: try readLabels(file, path: path), failedPaths: try optionalStrings(file, DatasetName.failedPaths),
      failedReasons: try optionalStrings(file, DatasetName.failedReasons), unreadRows: loadFeatures ? nil : shape[0])
  }
}

private func optionalStrings(_ file: HDF5File, _ name: String) throws -> [String] {
  try file.exists(name) ? try file.openDataset(name).readStrings() : []
}

private func readAttributes(_ file: HDF5File) throws -> FeatureFileAttributes {
  var attributes = FeatureFileAttributes(
    backbone: try file.stringAttribute(AttributeName.backbone),
    weightsFile: try file.stringAttribute(AttributeName.weightsFile),
    weightsSHA256: try file.stringAttribute(AttributeName.weightsSHA256),
    height: try file.intAttribute(AttributeName.height),
    width: try file.intAttribute(AttributeName.width),
    interpolation: try file.stringAttribute(AttributeName.interpolation),
    preprocessing: try file.stringAttribute(AttributeName.preprocessing),
    exif: try file.stringAttribute(AttributeName.exif),
    taps: try file.stringsAttribute(AttributeName.taps),
    tapWidths: try file.intsAttribute(AttributeName.tapWidths),
    normalization: try file.stringAttribute(AttributeName.normalization),
    toolVersion: try file.stringAttribute(AttributeName.toolVersion),
    warning: try file.hasAttribute(AttributeName.warning)
      ? try file.stringAttribute(AttributeName.warning) : nil)
  if try file.hasAttribute(AttributeName.shardIndex) {
    let index = try file.intAttribute(AttributeName.shardIndex)
    let count = try file.intAttribute(AttributeName.shardCount)
    guard count >= 1, (0..<count).contains(index) else {
      throw FeatureFileError(path: file.fileName, problem: "records shard \(index) of \(count)")
    }
    attributes.shard = ShardInfo(
      spec: ShardSpec(index: index, count: count), totalImages: try file.intAttribute(AttributeName.shardTotalImages),
      settingsSHA256: try file.stringAttribute(AttributeName.shardSettings),
      datasetSHA256: try file.stringAttribute(AttributeName.shardDataset))
  }
  return attributes
}

private func readLabels(_ file: HDF5File, path: String) throws -> [LabelColumn] {
  guard try file.exists(DatasetName.labels) else { return [] }
  let group = try file.openGroup(DatasetName.labels)
  return try group.memberNames().map { name in
    let dataset = try group.openDataset(name)
    switch try dataset.elementClass() {
    case .integer:
      let classes =
        try dataset.hasAttribute(AttributeName.classes)
        ? try dataset.stringsAttribute(AttributeName.classes) : []
      return .categorical(name: name, classes: classes, indices: try dataset.readInt32s())
    case .float:
      return .numeric(name: name, values: try dataset.readFloats())
    default:
      throw FeatureFileError(path: path, problem: "label column `\(name)` is neither integer nor float")
    }
  }
}
