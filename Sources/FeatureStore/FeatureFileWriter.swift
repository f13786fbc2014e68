// Writing a feature file while extraction runs: rows are appended as they are computed, so the
// N x D features never have to fit in memory; paths, labels and failures are written at the
// end, and `complete` turns from 0 to 1 only then. A file left with complete = 0 was
// interrupted.
import HDF5

/// Streams feature rows into a new feature file.
public final class FeatureFileWriter {
  /// The file being written.
  public let path: String
  /// The row width D.
  public let dimension: Int
  /// Rows appended so far.
  public private(set) var rowCount = 0
  private var file: HDF5File?
  private var features: HDF5Dataset?

  /// Creates (or replaces) the file at `path`, records `attributes` with complete = 0, and
  /// prepares an empty (0, dimension) feature dataset. `expectedRows`, when known, keeps the
  /// chunks of a small file small (HDF5 allocates whole chunks, about 1 MiB each otherwise).
  /// Its datasets carry Fletcher-32 checksums; `checksums: false` writes the layout of earlier
  /// versions (for tests of old files).
  public init(
    path: String, attributes: FeatureFileAttributes, dimension: Int, expectedRows: Int? = nil, checksums: Bool = true
  ) throws {
    self.path = path
    self.dimension = dimension
    guard dimension > 0 else {
      throw FeatureFileError(path: path, problem: "the feature dimension must be positive, not \(dimension)")
    }
    guard attributes.taps.count == attributes.tapWidths.count else {
      throw FeatureFileError(
        path: path, problem: "\(attributes.taps.count) taps but \(attributes.tapWidths.count) tap widths")
    }
    guard attributes.tapWidths.isEmpty || attributes.tapWidths.reduce(0, +) == dimension else {
      throw FeatureFileError(
        path: path, problem: "tap widths \(attributes.tapWidths) do not add up to the dimension \(dimension)")
    }
    let file = try HDF5File.create(path: path, checksums: checksums)
    try writeAttributes(attributes, to: file)
    try file.setAttribute(AttributeName.complete, int: 0)
    features = try file.createExtendableDataset(
      DatasetName.features, columns: dimension,
      chunkRows: featureChunkRows(dimension: dimension, expectedRows: expectedRows))
    self.file = file
  }

  /// Appends whole rows, row-major; `rows.count` must be a multiple of `dimension`.
  public func appendRows(_ rows: UnsafeBufferPointer<Float>) throws {
    guard let features else { throw finished() }
    guard rows.count % dimension == 0 else {
      throw FeatureFileError(
        path: path, problem: "\(rows.count) values are not whole rows of \(dimension) features")
    }
    try features.appendRows(rows)
    rowCount += rows.count / dimension
  }

  /// Writes buffered rows to disk, so an interruption loses as little as possible.
  public func flush() throws {
    guard let file else { throw finished() }
    try file.flush()
  }

  /// Writes the paths (one per appended row), label columns and failures, marks the file
  /// complete and closes it.
  public func finish(paths: [String], labels: [LabelColumn], failedPaths: [String], failedReasons: [String])
    throws
  {
    guard let file else { throw finished() }
    guard paths.count == rowCount else {
      throw FeatureFileError(path: path, problem: "\(paths.count) paths for \(rowCount) feature rows")
    }
    guard failedPaths.count == failedReasons.count else {
      throw FeatureFileError(
        path: path, problem: "\(failedPaths.count) failed paths but \(failedReasons.count) reasons")
    }
    try validate(labels)
    try file.createDataset(DatasetName.paths, strings: paths)
    let labelGroup = try file.createGroup(DatasetName.labels)
    for column in labels {
      switch column {
      case .categorical(let name, let classes, let indices):
        let dataset = try labelGroup.createDataset(name, int32s: indices, shape: [indices.count])
        try dataset.setAttribute(AttributeName.classes, strings: classes)
      case .numeric(let name, let values):
        try labelGroup.createDataset(name, floats: values, shape: [values.count])
      }
    }
    try file.createGroup(DatasetName.failed)
    try file.createDataset(DatasetName.failedPaths, strings: failedPaths)
    try file.createDataset(DatasetName.failedReasons, strings: failedReasons)
    try file.setAttribute(AttributeName.complete, int: 1)
    features = nil
    self.file = nil
    try file.close()
  }

  /// Like `finish`, for metadata too large to hold at once (`merge`): the paths, label columns
  /// (`columns`: their names, kinds and classes; the values are ignored) and failures are
  /// written in parts, each `nextPart()` giving the next rows' paths and label values and the
  /// next failures, until it returns nil. The parts must add up to every appended row and to
  /// `failedCount` failures.
  public func finish(
    columns: [LabelColumn], failedCount: Int, nextPart: () throws -> FeatureFileMetadataPart?
  ) throws {
    guard let file else { throw finished() }
    let schema = columns.map { $0.emptied() }
    try validate(schema.map { $0.resized(to: rowCount) })
    let pathsSet = try file.createDataset(DatasetName.paths, partsOf: .variableString, count: rowCount)
    let labelGroup = try file.createGroup(DatasetName.labels)
    var labelSets: [HDF5Dataset] = []
    for column in schema {
      switch column {
      case .categorical(let name, let classes, _):
        let dataset = try labelGroup.createDataset(name, partsOf: .int32, count: rowCount)
        try dataset.setAttribute(AttributeName.classes, strings: classes)
        labelSets.append(dataset)
      case .numeric(let name, _):
        labelSets.append(try labelGroup.createDataset(name, partsOf: .float32, count: rowCount))
      }
    }
    try file.createGroup(DatasetName.failed)
    let failedPaths = try file.createDataset(DatasetName.failedPaths, partsOf: .variableString, count: failedCount)
    let failedReasons = try file.createDataset(DatasetName.failedReasons, partsOf: .variableString, count: failedCount)
    var (row, failure) = (0, 0)
    while let part = try nextPart() {
      guard part.failedPaths.count == part.failedReasons.count, row + part.paths.count <= rowCount,
        failure + part.failedPaths.count <= failedCount, part.labels.count == schema.count
      else {
        throw FeatureFileError(path: path, problem: "a metadata part does not fit the rows and failures announced")
      }
      try pathsSet.write(part.paths, at: row)
      for (index, (column, expected)) in zip(part.labels, schema).enumerated() {
        switch (column, expected) {
        case (.categorical(let name, let classes, let indices), .categorical(let wanted, let known, _))
        where name == wanted && classes == known && indices.count == part.paths.count
          && !indices.contains { $0 < -1 || Int($0) >= classes.count }:
          try labelSets[index].write(indices, at: row)
        case (.numeric(let name, let values), .numeric(let wanted, _))
        where name == wanted && values.count == part.paths.count:
          try labelSets[index].write(values, at: row)
        default:
          throw FeatureFileError(path: path, problem: "label column `\(column.name)` differs between parts")
        }
      }
      try failedPaths.write(part.failedPaths, at: failure)
      try failedReasons.write(part.failedReasons, at: failure)
      row += part.paths.count
      failure += part.failedPaths.count
    }
    guard row == rowCount, failure == failedCount else {
      throw FeatureFileError(
        path: path,
        problem: "the parts hold \(row) paths and \(failure) failures for \(rowCount) rows and \(failedCount)")
    }
    try file.setAttribute(AttributeName.complete, int: 1)
    features = nil
    self.file = nil
    try file.close()
  }

  private func validate(_ labels: [LabelColumn]) throws {
    var seen: Set<String> = []
    for column in labels {
      let name = column.name
      guard !name.isEmpty, !name.contains("/"), name != ".", seen.insert(name).inserted else {
        throw FeatureFileError(
          path: path, problem: "label column name `\(name)` is empty, repeated, '.' or contains '/'")
      }
      guard column.count == rowCount else {
        throw FeatureFileError(
          path: path, problem: "label column `\(name)` has \(column.count) values for \(rowCount) rows")
      }
      if case .categorical(_, let classes, let indices) = column,
        let bad = indices.first(where: { $0 < -1 || Int($0) >= classes.count })
      {
        throw FeatureFileError(
          path: path,
          problem: "label column `\(name)` has class index \(bad), outside -1..<\(classes.count)")
      }
    }
  }

  private func finished() -> FeatureFileError {
    FeatureFileError(path: path, problem: "the writer was already finished")
  }
}

/// Rows per chunk: about 1 MiB of float32 per chunk, at least one row, at most the expected
/// row count. Readers pull whole rows, so chunks span the full width.
func featureChunkRows(dimension: Int, expectedRows: Int?) -> Int {
  let rows = max(1, (1 << 20) / (4 * dimension))
  guard let expectedRows else { return rows }
  return max(1, min(rows, expectedRows))
}

private func writeAttributes(_ a: FeatureFileAttributes, to file: HDF5File) throws {
  try file.setAttribute(AttributeName.formatVersion, int: featureFileFormatVersion)
  try file.setAttribute(AttributeName.backbone, string: a.backbone)
  try file.setAttribute(AttributeName.weightsFile, string: a.weightsFile)
  try file.setAttribute(AttributeName.weightsSHA256, string: a.weightsSHA256)
  try file.setAttribute(AttributeName.height, int: a.height)
  try file.setAttribute(AttributeName.width, int: a.width)
  try file.setAttribute(AttributeName.interpolation, string: a.interpolation)
  try file.setAttribute(AttributeName.preprocessing, string: a.preprocessing)
  try file.setAttribute(AttributeName.exif, string: a.exif)
  try file.setAttribute(AttributeName.taps, strings: a.taps)
  try file.setAttribute(AttributeName.tapWidths, ints: a.tapWidths)
  try file.setAttribute(AttributeName.normalization, string: a.normalization)
  try file.setAttribute(AttributeName.toolVersion, string: a.toolVersion)
  if let warning = a.warning { try file.setAttribute(AttributeName.warning, string: warning) }
  if let shard = a.shard {
    try file.setAttribute(AttributeName.shardIndex, int: shard.spec.index)
    try file.setAttribute(AttributeName.shardCount, int: shard.spec.count)
    try file.setAttribute(AttributeName.shardTotalImages, int: shard.totalImages)
    try file.setAttribute(AttributeName.shardSettings, string: shard.settingsSHA256)
    try file.setAttribute(AttributeName.shardDataset, string: shard.datasetSHA256)
  }
}

/// One part of a feature file's metadata (`FeatureFileWriter.finish(columns:failedCount:nextPart:)`).
public struct FeatureFileMetadataPart: Sendable {
  public var paths: [String]
  public var labels: [LabelColumn]
  public var failedPaths: [String]
  public var failedReasons: [String]

  public init(paths: [String], labels: [LabelColumn], failedPaths: [String], failedReasons: [String]) {
    self.paths = paths
    self.labels = labels
    self.failedPaths = failedPaths
    self.failedReasons = failedReasons
  }
}

extension LabelColumn {
  /// The same column with no values (its name, kind and classes).
  func emptied() -> LabelColumn { resized(to: 0) }

  /// The same column's kind with `count` missing values, for checking a schema.
  func resized(to count: Int) -> LabelColumn {
    switch self {
    case .categorical(let name, let classes, _):
      return .categorical(name: name, classes: classes, indices: [Int32](repeating: -1, count: count))
    case .numeric(let name, _): return .numeric(name: name, values: [Float](repeating: .nan, count: count))
    }
  }
}
