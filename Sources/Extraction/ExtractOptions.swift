// Everything one extraction needs to know, as the tool's options give it.

import Backbones
import FeatureStore
import ImageIO

/// Where the backbone's weights come from: one type for every command that takes --weights.
public enum WeightsChoice: Equatable, Sendable {
  /// Keras' standard file for the backbone in `$KERAS_HOME/models` or `~/.keras/models`.
  case kerasDefault
  /// A Keras weight file (legacy `.h5` of any generation, or Keras 3 `.weights.h5`).
  case file(String)
  /// Deterministic random weights (Docs/keras-parity.md): meaningless features, for experiments.
  /// Without a seed: 0 for extract; for predict and finetune, the seed the heads file records
  /// (another one is refused).
  case random(seed: UInt32?)
}

/// The options of one `extract` run.
public struct ExtractOptions: Sendable {
  /// The image folder; unused with `array`.
  public var imagesRoot: String
  /// Images from an array file instead of a folder (ArrayInput.swift); then `labels` is unused.
  public var array: ArrayInput?
  public var output: String
  /// `--shard K/N`: extract slice K of N of the sorted images into a shard file (`merge` joins them).
  public var shard: ShardSpec?
  public var backbone: BackboneKind = .resnet50
  public var weights: WeightsChoice = .kerasDefault
  /// The input size (HEIGHT, WIDTH); nil: 224x224 for a folder, the images' own size for an
  /// array (Keras models on arrays such as CIFAR-10's take them at their size).
  public var size: (height: Int, width: Int)?
  public var interpolation: Interpolation = .nearest
  public var exif: ExifMode = .ignore
  /// Keras layer names and/or the presets `last` and `blocks`, in output order.
  public var taps: [String] = ["last"]
  public var labels: LabelSource = .folders
  /// Read hidden files too (FolderListing.swift has the rule); by default they are counted.
  public var includeHidden = false
  public var maxPixels = defaultMaxPixels
  public var batchSize = 16
  public var threads = 2
  public var strict = false
  public var overwrite = false
  public var quiet = false

  public init(imagesRoot: String, output: String) {
    self.imagesRoot = imagesRoot
    self.output = output
  }

  /// Expands presets into Keras layer names, checks each against the backbone, and refuses a
  /// tap asked for twice (its columns would be ambiguous in the feature file).
  public func resolvedTaps() throws -> [String] {
    let names: [String]
    do {
      names = try backbone.resolveTaps(taps)
    } catch {
      throw ExtractError.usage("--taps: \(error)")
    }
    var seen = Set<String>()
    for name in names where !seen.insert(name).inserted {
      throw ExtractError.usage("--taps: '\(name)' is asked for twice")
    }
    return names
  }
}

/// What a finished run did, for the summary line.
public struct ExtractSummary: Sendable {
  public var total: Int
  public var extracted: Int
  public var failed: Int
  public var rotated: Int
  public var resumedImages: Int
  public var seconds: Double
  public var output: String
  /// What the folder's listing left out, by rule (hidden files, links to folders, unreadable folders).
  public var skipped = SkippedFiles()
}
