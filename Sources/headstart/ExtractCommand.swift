// `headstart extract`: Keras-identical backbone features from an image folder into a resumable HDF5 file.

import ArgumentParser
import Backbones
import Engine
import Extraction
import Foundation
import ImageIO
import Support
import ToolSupport

extension BackboneKind: ExpressibleByArgument {}
extension Interpolation: ExpressibleByArgument {}
extension ExifMode: ExpressibleByArgument {}
extension ExtractError: ToolError {}

struct ExtractCommand: ParsableCommand, UnforeseenErrorExitCode {
  static let configuration = CommandConfiguration(
    commandName: "extract",
    abstract: "Run a frozen ImageNet backbone over an image folder or array and cache its features in HDF5.",
    discussion: """
      The features are exactly what Keras gives for the same weights and images: load_img (Pillow \
      decoding and resize), preprocess_input ('caffe'), the backbone up to each tap, global average \
      pooling and L2 normalisation per tap. An interrupted run continues where it stopped when the \
      same command is run again; files that cannot be used are listed in /failed and the run goes on.

      Every regular file below --images is read, at any depth; hidden files (names starting with '.', \
      files inside folders starting with '.') are skipped and counted in the summary unless \
      --include-hidden. A file name that is not UTF-8 is read too, and stored with each such byte \
      as \\xHH and a backslash as \\\\ (Docs/file-format.md).

      --array reads images from an array instead (what keras.datasets returns, saved with \
      np.savez(path, x=x_train, y=y_train)): .npz (stored or compressed), .npy, or HDF5 \
      FILE.h5:DATASET, uint8 (N, H, W, 3) or (N, H, W) gray, read a batch of rows at a time. Row i \
      is named x[00000i]. Labels: array y (or --array-labels), class indices or one-hot; class k \
      is named k unless --class-names. The images keep their own size unless --size is given.

      Examples:
        headstart extract --images pets/ --output pets.h5
        headstart extract --images clothes/ --dir-labels color,type --output c.h5
        headstart extract --images art/ --labels art.csv --taps blocks --output a.h5
        headstart extract --array cifar10.npz --backbone vgg16 --output cifar.h5
        headstart extract --array mnist.npz:x_train --size 32x32 --output mnist.h5
      """,
    version: headstartVersion)

  @OptionGroup var dataset: DatasetOptions

  @OptionGroup var arrayInput: ArrayOption

  @OptionGroup var arrayLabels: ArrayLabelOptions

  @OptionGroup var hidden: HiddenFilesOption

  @Option(help: ArgumentHelp("Feature file to write (HDF5).", valueName: "file.h5"))
  var output: String

  @Option(help: "Backbone, as keras.applications defines it (include_top=False).")
  var backbone: BackboneKind = .resnet50

  @OptionGroup var weights: WeightsOptions

  @Option(
    help: ArgumentHelp(
      "Input size HEIGHTxWIDTH, Keras target_size order (default: 224x224; with --array, the images' own size).",
      valueName: "HxW"))
  var size: String?

  @Option(help: "Resize filter, as Keras load_img (Pillow): nearest (Keras' default) or bilinear.")
  var interpolation: Interpolation = .nearest

  @Option(help: "EXIF orientation: ignore (as Keras load_img) or apply.")
  var exif: ExifMode = .ignore

  @Option(
    help: ArgumentHelp(
      "Comma-separated Keras layer names, or a preset: last (what pooling='avg' pools) or blocks "
        + "(every residual block output / every VGG pool).", valueName: "taps"))
  var taps: String = "last"

  @Option(help: "Refuse images with more pixels than this (Pillow's decompression-bomb limit).")
  var maxPixels: Int = defaultMaxPixels

  @OptionGroup var batches: ImageBatchOptions

  @OptionGroup var shard: ShardOption

  @Flag(help: "Stop at the first image that cannot be used (exit 1; finished batches are kept).")
  var strict = false

  @Flag(help: "Replace an existing output and discard an unfinished run.")
  var overwrite = false

  @Flag(help: "No progress output.")
  var quiet = false

  mutating func validate() throws {
    if let size, parseSize(size) == nil {
      throw ValidationError("--size \(size): expected HEIGHTxWIDTH, e.g. 224x224")
    }
    guard (dataset.images == nil) != (arrayInput.array == nil) else {
      throw ValidationError("give either --images (a folder) or --array (an array file)")
    }
    if arrayInput.array != nil, dataset.labels != nil || dataset.dirLabels != nil {
      throw ValidationError("--labels and --dir-labels go with --images; an --array's labels are --array-labels")
    }
    if arrayInput.array == nil, arrayLabels.arrayLabels != nil || arrayLabels.classNames != nil {
      throw ValidationError("--array-labels and --class-names go with --array")
    }
  }

  func run() throws {
    let lock = try OutputLock.acquire(for: output)
    defer { lock?.release() }
    stopOnInterrupt()
    var options = ExtractOptions(imagesRoot: dataset.images ?? "", output: output)
    options.array = arrayInput.array.map {
      ArrayInput(location: $0, labels: arrayLabels.arrayLabels, classNames: arrayLabels.names)
    }
    options.backbone = backbone
    options.weights = weights.choice
    options.shard = shard.spec
    options.size = size.flatMap(parseSize)
    options.interpolation = interpolation
    options.exif = exif
    options.taps = taps.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    if let labels = dataset.labels { options.labels = .csv(labels) }
    if let columns = dataset.dirLabelColumns { options.labels = .splitFolders(columns) }
    options.includeHidden = hidden.includeHidden
    options.maxPixels = maxPixels
    options.batchSize = batches.batchSize
    options.threads = batches.threads
    options.strict = strict
    options.overwrite = overwrite
    options.quiet = quiet
    let summary = try runExtraction(options)
    var line = "extracted \(summary.extracted) of \(summary.total) images"
    line += summary.failed > 0 ? ", \(summary.failed) failed (listed in /failed)" : ", none failed"
    line += ", \(summary.rotated) with an EXIF rotation tag"
    if exif == .ignore && summary.rotated > 0 { line += " (not applied; --exif apply to rotate)" }
    for clause in summary.skipped.clauses { line += "; " + clause }
    let fresh = summary.extracted + summary.failed - summary.resumedImages
    let rate = summary.seconds > 0 ? Double(max(0, fresh)) / summary.seconds : 0
    line += String(format: "; %.1f s, %.1f images/s -> %@", summary.seconds, rate, summary.output)
    print(line)
    if summary.failed > 0 {
      FileHandle.standardError.write(Data("warning: \(summary.failed) image(s) could not be used\n".utf8))
    }
  }

  /// Errors outside ExtractError (anything unforeseen) have always exited 2.
  static let unforeseenErrorExitCode: Int32 = 2
}

/// Ctrl-C: every finished batch is already durable in the journal, so stopping at once loses
/// only the batch in flight; say how to continue. (Globals are lazy: touch the message first.)
private func stopOnInterrupt() {
  _ = interruptMessage
  signal(SIGINT) { _ in
    _ = write(STDERR_FILENO, interruptMessage, strlen(interruptMessage))
    _exit(130)
  }
}

/// Written from the signal handler, so it is made once, before any signal can arrive.
nonisolated(unsafe) private let interruptMessage: UnsafeMutablePointer<CChar> = strdup(
  "\nheadstart extract: interrupted; finished batches are kept, run the same command again to continue\n")
