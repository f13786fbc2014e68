// Everything one fine-tuning run needs to know, as `headstart finetune`'s options give it. How
// images are decoded, the backbone and the taps are deliberately absent: they are read from the
// heads file's provenance, as for predict.

import Augmentation
import Extraction
import Foundation
import HDF5

/// --cache-precision: how the block inputs are kept (float32, or float16 at half the bytes).
public typealias CachePrecision = HDF5FloatStorage

/// The options of one `finetune` run.
public struct FinetuneOptions: Sendable {
  /// Image folder (searched recursively).
  public var images: String
  /// CSV manifest (relative path, then label columns), as extract's.
  public var labels: String?
  /// Split folder names on '_' into these label columns, as extract's.
  public var dirLabels: [String]?
  /// Read hidden files too, as extract's --include-hidden (Extraction/FolderListing.swift).
  public var includeHidden = false
  /// The heads file fit-heads wrote, fitted on the trained block's output.
  public var heads: String
  /// The weights the heads' features were made with.
  public var weights: WeightsChoice = .kerasDefault
  /// The fine-tuned model; the heads go beside it (`.heads.h5`).
  public var output: String
  public var epochs = 5
  public var batchSize = 16
  /// adam, adamax, rmsprop or sgd.
  public var optimizer = "adam"
  /// nil: 1e-4, or 1e-3 for sgd.
  public var learningRate: Double?
  /// Batch norm in the block: frozen-statistics, frozen or train.
  public var bn = "frozen-statistics"
  /// 'last', or Keras block or layer names inside the last block.
  public var unfreeze = "last"
  /// Share of images for validation when there is no `split` or `in_train` column (fit-heads' rule).
  public var valSplit = 0.1
  /// Seed of the split and the shuffling; nil: the seed fit-heads used (the heads file records it).
  public var shuffleSeed: UInt64?
  /// Epochs without a better validation loss before stopping (Keras' EarlyStopping meaning).
  public var patience = 5
  /// Memory for the cached block inputs, in bytes.
  public var maxMemory = 4 << 30
  /// Folder for the block inputs when they exceed `maxMemory`.
  public var cacheDirectory: String?
  public var cachePrecision: CachePrecision = .float32
  /// Keras ImageDataGenerator's transforms for the training images (identity: none).
  public var augmentation = AugmentationSettings()
  public var augmentSeed: UInt64 = 0
  /// Threads decoding images.
  public var threads = ProcessInfo.processInfo.activeProcessorCount
  public var quiet = false
  /// Tests: stop (as if killed) after this many epochs, leaving the checkpoint.
  public var stopAfterEpochs: Int?
  /// Tests: write every image's head outputs computed by the trainer (best epoch) as CSV.
  public var trainerPredictions: String?

  public init(images: String, heads: String, output: String) {
    self.images = images
    self.heads = heads
    self.output = output
  }
}
