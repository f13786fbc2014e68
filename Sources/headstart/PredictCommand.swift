// `headstart predict`: apply trained heads to new images, with the backbone and preprocessing their
// features were made with.

import ArgumentParser
import Engine
import Foundation
import Predicting
import Support
import ToolSupport

extension PredictError: ToolError {}
extension PredictionFormat: ExpressibleByArgument {}

struct PredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract: "Predict with heads from fit-heads on new images, one line per image.",
    discussion: """
      Decoding, input size, resize filter, EXIF handling, taps and normalisation are read from the \
      heads file (the provenance of the features the heads were trained on), never re-specified: \
      the images go through extract's own pipeline. The weights must be the file those features \
      were made with (same SHA-256), or --weights random when they were made with extract's \
      random weights (the seed is read from the heads file).

      Per head: softmax gives the class and one probability column per class (<head>:<class>); \
      sigmoid the labels at or over their stored thresholds (';'-joined, '-' for none) and each \
      label's probability; tanh the value in the label's own units; embedding the nearest wheel \
      class (the hue). Images that cannot be read are listed with status 'failed' and the reason; \
      the run goes on. Rows are sorted by path, as extract sorts them.

      A model from finetune is the pair it writes: --heads model.heads.h5 --weights model.h5 \
      (the heads' provenance records model.h5's SHA-256).

      Examples:
        headstart predict --heads heads.h5 --weights resnet50_notop.h5 --images new/ --output predictions.csv
        headstart predict --heads heads.h5 --images a.jpg b.png --output predictions.jsonl
        headstart predict --heads heads.h5 --weights model.h5 --array cifar10-test.npz --output test.csv
      """,
    version: headstartVersion)

  @Option(help: ArgumentHelp("Heads file written by fit-heads.", valueName: "heads.h5"))
  var heads: String

  @OptionGroup var weights: WeightsOptions

  @Option(
    parsing: .upToNextOption,
    help: ArgumentHelp(
      "Image folders (searched recursively) and image files. With one folder, paths are relative to it.",
      valueName: "dir|file"))
  var images: [String] = []

  @OptionGroup var arrayInput: ArrayOption

  @Option(
    help: ArgumentHelp(
      "Predictions file, .csv or .jsonl (default: CSV on standard output).", valueName: "predictions.csv"))
  var output: String?

  @Option(help: "Output format, instead of the extension's: csv or jsonl.")
  var format: PredictionFormat?

  @OptionGroup var hidden: HiddenFilesOption

  @OptionGroup var batches: ImageBatchOptions

  @OptionGroup var shard: ShardOption

  @Flag(help: "No progress or summary output (warnings are still shown).")
  var quiet = false

  func validate() throws {
    if arrayInput.array != nil, !images.isEmpty {
      throw ValidationError("give either --images (folders and files) or --array (an array file)")
    }
  }

  func run() throws {
    let lock = try output.flatMap(OutputLock.acquire(for:))
    defer { lock?.release() }
    var options = PredictOptions(heads: heads, images: images)
    options.array = arrayInput.array
    options.weights = weights.choice
    options.shard = shard.spec
    options.output = output
    options.format = format
    options.batchSize = batches.batchSize
    options.threads = batches.threads
    options.quiet = quiet
    options.includeHidden = hidden.includeHidden
    if let output { removeOnInterrupt(output + ".writing") }
    let summary = try runPrediction(options)
    let destination = summary.output ?? "standard output"
    if !quiet {
      let rate = summary.seconds > 0 ? Double(summary.total) / summary.seconds : 0
      log(
        "predicted \(summary.predicted) of \(summary.total) images"
          + summary.skipped.clauses.map { "; " + $0 }.joined()
          + String(format: "; %.1f s, %.1f images/s -> %@", summary.seconds, rate, destination))
    }
    if summary.failed > 0 {
      log("warning: \(summary.failed) image(s) could not be read (status 'failed' in \(destination))")
    }
  }
}

/// The temporary output, made once before any signal can arrive (the handler may not allocate).
nonisolated(unsafe) private var temporaryOutput: UnsafeMutablePointer<CChar>?

/// Ctrl-C or `kill`: remove the half-written `OUTPUT.writing`, so an interrupted run leaves
/// nothing behind (the output itself is only ever a complete file).
private func removeOnInterrupt(_ path: String) {
  temporaryOutput = strdup(path)
  for signalNumber in [SIGINT, SIGTERM] {
    signal(signalNumber) { _ in
      if let path = temporaryOutput { unlink(path) }
      _exit(130)
    }
  }
}
