// The feature file's schema, in one place (Docs/file-format.md is the reference):
//
//   /features            float32 (N, D), chunked by rows (about 1 MiB per chunk), extendable
//   /paths               variable-length UTF-8 strings (N), relative to the image root
//   /labels/<column>     int32 (N) class index with attribute `classes` (strings), -1 = missing,
//                        or float32 (N) with NaN = missing
//   /failed/paths        variable-length UTF-8 strings (F), possibly F = 0
//   /failed/reasons      variable-length UTF-8 strings (F)
//   root attributes      see `FeatureFileAttributes` and `AttributeName`; a shard's file also
//                        shard_index, shard_count, shard_total_images, shard_settings_sha256,
//                        shard_dataset_sha256 (Shard.swift)
//
// Row i of /features belongs to /paths[i] and to row i of every label column. D is the sum of
// `tap_widths`: the taps' features side by side, each L2-normalised on its own.

/// The `format_version` this code writes and reads.
public let featureFileFormatVersion = 1

/// Root attribute names, as stored.
enum AttributeName {
  static let formatVersion = "format_version"
  static let backbone = "backbone"
  static let weightsFile = "weights_file"
  static let weightsSHA256 = "weights_sha256"
  static let height = "height"
  static let width = "width"
  static let interpolation = "interpolation"
  static let preprocessing = "preprocessing"
  static let exif = "exif"
  static let taps = "taps"
  static let tapWidths = "tap_widths"
  static let normalization = "normalization"
  static let toolVersion = "tool_version"
  static let complete = "complete"
  static let warning = "warning"
  static let classes = "classes"
  static let shardIndex = "shard_index"
  static let shardCount = "shard_count"
  static let shardTotalImages = "shard_total_images"
  static let shardSettings = "shard_settings_sha256"
  static let shardDataset = "shard_dataset_sha256"
}

/// Dataset and group names, as stored.
enum DatasetName {
  static let features = "features"
  static let paths = "paths"
  static let labels = "labels"
  static let failed = "failed"
  static let failedPaths = "failed/paths"
  static let failedReasons = "failed/reasons"
}

/// A feature file that cannot be written or read as asked, with what is wrong.
public struct FeatureFileError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The feature file.
  public var path: String
  /// What is wrong, phrased to follow the file name.
  public var problem: String

  public init(path: String, problem: String) {
    self.path = path
    self.problem = problem
  }

  public var description: String { "feature file \(path): \(problem)" }
}

/// What a feature file records about how its features were made.
public struct FeatureFileAttributes: Sendable, Equatable {
  /// Backbone name, e.g. "resnet50".
  public var backbone: String
  /// The weight file as given by the user.
  public var weightsFile: String
  /// Hex SHA-256 of the weight file's bytes.
  public var weightsSHA256: String
  /// Input size, Keras `target_size` order (height, width).
  public var height: Int
  public var width: Int
  /// Resize filter, Keras/Pillow name ("nearest", "bilinear", ...).
  public var interpolation: String
  /// Input preprocessing, "caffe" for ResNet50 and VGG.
  public var preprocessing: String
  /// EXIF orientation handling, e.g. "ignored" (as Keras' load_img) or "applied".
  public var exif: String
  /// Tap names (Keras layer names), in the order their features sit in a row.
  public var taps: [String]
  /// Feature width of each tap; their sum is the row width D.
  public var tapWidths: [Int]
  /// How each tap's features were normalised, "l2 per tap".
  public var normalization: String
  /// The version of the tool that wrote the file.
  public var toolVersion: String
  /// Present when the features are not trustworthy, e.g. made with random weights.
  public var warning: String?
  /// Present in a shard's file (`extract --shard`), absent in a whole run's or a merged one's.
  public var shard: ShardInfo? = nil

  public init(
    backbone: String, weightsFile: String, weightsSHA256: String, height: Int, width: Int,
    interpolation: String, preprocessing: String = "caffe", exif: String, taps: [String], tapWidths: [Int],
    normalization: String = "l2 per tap", toolVersion: String, warning: String? = nil, shard: ShardInfo? = nil
  ) {
    self.shard = shard
    self.backbone = backbone
    self.weightsFile = weightsFile
    self.weightsSHA256 = weightsSHA256
    self.height = height
    self.width = width
    self.interpolation = interpolation
    self.preprocessing = preprocessing
    self.exif = exif
    self.taps = taps
    self.tapWidths = tapWidths
    self.normalization = normalization
    self.toolVersion = toolVersion
    self.warning = warning
  }
}

/// One label column: a class per row, or a number per row.
public enum LabelColumn: Sendable, Equatable {
  /// Class indices into `classes`, -1 where the row has no label.
  case categorical(name: String, classes: [String], indices: [Int32])
  /// Numbers, NaN where the row has no label.
  case numeric(name: String, values: [Float])

  /// The column name (the dataset name under /labels).
  public var name: String {
    switch self {
    case .categorical(let name, _, _), .numeric(let name, _): return name
    }
  }

  /// The number of rows.
  public var count: Int {
    switch self {
    case .categorical(_, _, let indices): return indices.count
    case .numeric(_, let values): return values.count
    }
  }

  // NaN != NaN would make two identical numeric columns unequal; compare bit patterns.
  public static func == (lhs: LabelColumn, rhs: LabelColumn) -> Bool {
    switch (lhs, rhs) {
    case (.categorical(let a, let b, let c), .categorical(let x, let y, let z)):
      return a == x && b == y && c == z
    case (.numeric(let a, let b), .numeric(let x, let y)):
      return a == x && b.map(\.bitPattern) == y.map(\.bitPattern)
    default:
      return false
    }
  }
}
