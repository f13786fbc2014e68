// Everything one `predict` run needs to know, as the tool's options give it. How images are
// decoded and preprocessed is deliberately absent: it is read from the heads file.

import Extraction
import FeatureStore
import Foundation

/// How predictions are written.
public enum PredictionFormat: String, CaseIterable, Sendable {
  /// Comma-separated values with a header row, fields quoted as RFC 4180 says.
  case csv
  /// One JSON object per line (JSON Lines).
  case jsonl

  /// The format an output file's extension names (`.csv`, `.jsonl`, `.ndjson`), or nil.
  public init?(fileExtensionOf path: String) {
    switch URL(fileURLWithPath: path).pathExtension.lowercased() {
    case "csv": self = .csv
    case "jsonl", "ndjson": self = .jsonl
    default: return nil
    }
  }
}

/// The options of one `predict` run.
public struct PredictOptions: Sendable {
  /// The heads file `fit-heads` wrote.
  public var heads: String
  /// The weights the heads' features were made with (random: the seed the heads file records).
  public var weights: WeightsChoice = .kerasDefault
  /// `--shard K/N`: predict slice K of N of the sorted images; CSV parts after the first have no
  /// header, so the parts concatenated in K order are the file one run writes.
  public var shard: ShardSpec?
  /// Image folders (searched recursively) and image files.
  public var images: [String]
  /// Images from an array file instead (`FILE[:NAME]`, Extraction/ArrayInput.swift), rows
  /// named `NAME[000123]` as extract names them.
  public var array: String?
  /// Read hidden files inside the folders too (Extraction/FolderListing.swift); by default they
  /// are counted.
  public var includeHidden = false
  /// The predictions file; nil writes to standard output.
  public var output: String?
  /// The output format; nil takes it from the output's extension (CSV on standard output).
  public var format: PredictionFormat?
  public var batchSize = 16
  public var threads = 2
  public var quiet = false

  public init(heads: String, images: [String]) {
    self.heads = heads
    self.images = images
  }

  /// The format to write, from `format` or the output's extension.
  public func resolvedFormat() throws -> PredictionFormat {
    if let format { return format }
    guard let output else { return .csv }
    guard let format = PredictionFormat(fileExtensionOf: output) else {
      throw PredictError.usage(
        "--output \(output): unknown extension; use .csv or .jsonl, or name the format with --format csv|jsonl")
    }
    return format
  }
}

/// What a finished run did, for the summary line.
public struct PredictSummary: Sendable {
  public var total: Int
  public var predicted: Int
  public var failed: Int
  public var seconds: Double
  /// The predictions file, or nil for standard output.
  public var output: String?
  /// What the folders' listings left out, by rule.
  public var skipped = SkippedFiles()
}
