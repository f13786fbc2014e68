// `headstart finetune`: train a backbone's last block and the heads together, starting from a heads file
// from fit-heads, and write the whole backbone (Keras legacy layout) plus the updated heads.

import ArgumentParser
import Engine
import Extraction
import FinetuneJob
import Fitting
import Foundation
import HDF5
import Support
import ToolSupport

extension FinetuneFailure: ToolError {}
extension HDF5FloatStorage: ExpressibleByArgument {}

/// --bn: what batch normalisation in the trained block does.
enum BatchNormMode: String, CaseIterable, ExpressibleByArgument {
  case frozenStatistics = "frozen-statistics"
  case frozen
  case train
}

struct FinetuneCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "finetune",
    abstract: "Fine-tune the last backbone block and the heads end to end, as Keras' fine-tuning guide does.",
    discussion: """
      The backbone, input size, resize filter, EXIF handling and taps come from the heads file's \
      provenance (as for predict); the weights must be the ones its features were made with. The \
      trained block is ResNet50's conv5 stage or a VGG's block5 (--unfreeze last); everything \
      before it is frozen, so (without augmentation) its output is computed once for all images \
      and every epoch trains the last block alone. --unfreeze can narrow training to some of that \
      block's layers (Keras: layer.trainable = False on the others); layers before it always stay \
      frozen.

      The learning rate defaults small (Adam 1e-4; SGD 1e-3 with momentum 0.9): the heads start \
      trained and the block pre-trained, and a large step would wreck the pre-trained features \
      before the heads adapt (Keras' transfer-learning guide fine-tunes with a very low rate). \
      Batch norm in the block keeps its moving statistics and trains gamma/beta by default \
      (frozen-statistics, Keras' recommended behaviour: BN layers run in inference mode); \
      'frozen' also freezes gamma/beta, 'train' updates the statistics.

      Writes OUTPUT (the whole backbone, loadable with \
      keras.applications.ResNet50(weights=None, include_top=False).load_weights(OUTPUT)) and \
      OUTPUT-without-.h5 + .heads.h5 (the heads, provenance naming OUTPUT and its SHA-256), so \
      `headstart predict --heads model.heads.h5 --weights model.h5` applies the result. After every epoch \
      OUTPUT.partial holds a checkpoint; rerunning the same command continues from it.

      Augmentation: the flags of the Augmentation group are Keras' ImageDataGenerator arguments \
      (rotation_range, width_shift_range, ..., fill_mode, cval) and give the same transforms for \
      the same draws; each epoch every training image gets a fresh random transform (seeded by \
      --augment-seed) between decoding and 'caffe' preprocessing, as ImageDataGenerator with \
      preprocessing_function=preprocess_input does. With any augmentation the frozen prefix can \
      no longer be cached: it runs every epoch on every training image. Validation images are \
      never augmented (their block inputs are computed once).

      Example:
        headstart finetune --images photos/ --heads heads.h5 --weights resnet50_notop.h5 --output model.h5
      """,
    version: headstartVersion)

  @OptionGroup var dataset: DatasetOptions

  @OptionGroup var hidden: HiddenFilesOption

  @Option(help: ArgumentHelp("Heads file written by fit-heads (fitted on the last tap).", valueName: "heads.h5"))
  var heads: String

  @OptionGroup var weights: WeightsOptions

  @Option(help: ArgumentHelp("The fine-tuned model (the heads go beside it, .heads.h5).", valueName: "model.h5"))
  var output: String

  @Option(help: "Epochs at most.")
  var epochs: Int = 5

  @OptionGroup var optimization: OptimizerOptions

  @Option(help: "Batch norm in the block: keep its statistics and train gamma/beta, freeze both, or train both.")
  var bn: BatchNormMode = .frozenStatistics

  @Option(
    help: ArgumentHelp(
      "What trains: 'last' (ResNet50's conv5 stage, a VGG's block5), or Keras block or layer names in it, "
        + "comma-separated (conv5_block3, conv5_block3_2_conv, block5_conv3); the rest stays frozen.",
      valueName: "names"))
  var unfreeze: String = "last"

  @OptionGroup var validation: ValidationOptions

  @Option(
    help: ArgumentHelp(
      "Seed of the split and the shuffling (default: fit-heads' --seed, from the heads file: with the same "
        + "--val-split and labels, the rows the heads were validated on; other rows are refused)."))
  var shuffleSeed: UInt64?

  @Option(
    help: ArgumentHelp(
      "Memory for the cached block inputs (with augmentation: the validation ones and the decoded training "
        + "images, else decoded every epoch), e.g. 2G.",
      valueName: "bytes"))
  var maxMemory: String = "4G"

  @Option(
    help: ArgumentHelp(
      "Folder for the block inputs when they exceed --max-memory (an HDF5 file, removed at the end).",
      valueName: "dir"))
  var cacheDir: String?

  @Option(
    help: ArgumentHelp(
      "Precision of the cached block inputs, in memory and on disk: float32, or float16 (half the memory "
        + "and disk; results then differ slightly from Keras').", valueName: "float32|float16"))
  var cachePrecision: CachePrecision = .float32

  @OptionGroup(title: "Augmentation (Keras' ImageDataGenerator; validation images are never augmented)")
  var augmentation: AugmentationOptions

  @OptionGroup var batches: ImageBatchOptions

  @Flag(help: "No progress output.")
  var quiet = false

  /// Tests: stop (as if killed) after this many epochs, leaving the checkpoint.
  @Option(help: .hidden)
  var stopAfterEpochs: Int?

  /// Tests: write every image's head outputs computed by the trainer (best epoch) as CSV.
  @Option(help: .hidden)
  var trainerPredictions: String?

  mutating func validate() throws {
    // --images is optional in the options extract shares (it may take --array instead).
    guard dataset.images != nil else { throw ValidationError("Missing expected argument '--images <dir>'") }
    guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
    guard parseByteCount(maxMemory) != nil else { throw ValidationError("--max-memory \(maxMemory): not a size") }
    guard output.hasSuffix(".h5"), output != heads else {
      throw ValidationError("--output \(output): must end in .h5 and differ from --heads")
    }
  }

  func run() throws {
    let lock = try OutputLock.acquire(for: output)
    defer { lock?.release() }
    var options = FinetuneOptions(images: dataset.images ?? "", heads: heads, output: output)
    options.labels = dataset.labels
    options.dirLabels = dataset.dirLabelColumns
    options.includeHidden = hidden.includeHidden
    options.weights = weights.choice
    options.epochs = epochs
    options.batchSize = batches.batchSize
    options.optimizer = optimization.optimizer.rawValue
    options.learningRate = optimization.learningRate
    options.bn = bn.rawValue
    options.unfreeze = unfreeze
    options.valSplit = validation.valSplit
    options.shuffleSeed = shuffleSeed
    options.patience = validation.patience
    options.maxMemory = parseByteCount(maxMemory)!
    options.cacheDirectory = cacheDir
    options.cachePrecision = cachePrecision
    options.augmentation = try augmentation.settings()
    options.augmentSeed = augmentation.augmentSeed
    options.threads = batches.threads
    options.quiet = quiet
    options.stopAfterEpochs = stopAfterEpochs
    options.trainerPredictions = trainerPredictions
    let quiet = self.quiet
    try runFinetune(options, log: { if !quiet { log($0) } })
  }
}
