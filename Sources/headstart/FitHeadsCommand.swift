// `headstart fit-heads`: train several small heads on a cached feature file, in seconds.

import ArgumentParser
import Engine
import Fitting
import Foundation
import Support
import ToolSupport

extension FitError: ToolError {}

struct FitHeadsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fit-heads",
    abstract: "Train several small heads on the features `extract` cached.",
    discussion: """
      Heads share the cached features; each learns one label column. Kinds: tanh (regression; \
      targets mapped from their training range onto [-1, 1], reported in original units), softmax \
      (single-label classes), sigmoid (two-class columns, or label sets such as `warm;high_contrast`, one output per label; see \
      Docs/fit-heads.md), embedding (the colour wheel: a learned vector per hue, the nearest one \
      predicted; accuracy and mean wheel distance). Defaults are tuned for L2-normalised \
      features: Adam with learning rate 0.01 (Keras' 0.001 underfits them), batch 32, 20 epochs, \
      early stopping on validation loss.

      Examples:
        headstart fit-heads --features art.h5 --head harmony=softmax:harmony --head balance=tanh:balance
        headstart fit-heads --features art.h5 --heads heads.json --metrics metrics.json
        headstart fit-heads --features art.h5 --labels fixed.csv --taps conv5_block3_out --head tags=sigmoid:tags
      """,
    version: headstartVersion)

  @Option(help: ArgumentHelp("Feature file written by extract.", valueName: "file.h5"))
  var features: String

  @Option(help: ArgumentHelp("A head, NAME=KIND:COLUMN (repeatable).", valueName: "head"))
  var head: [String] = []

  @Option(
    help: ArgumentHelp(
      "YAML or JSON file with a list `heads` of {name, kind, column, hidden, loss_weight, class_weights, ...}.",
      valueName: "heads.yaml"))
  var heads: String?

  @Option(
    help: ArgumentHelp(
      "CSV of labels joined on the path (first column, relative to the image root, as extract's manifest); "
        + "adds columns or replaces same-named ones.", valueName: "file.csv"))
  var labels: String?

  @Option(help: ArgumentHelp("Train on these stored taps only (Keras layer names).", valueName: "tap,tap"))
  var taps: String?

  @Option(help: "Epochs at most (early stopping may end sooner).")
  var epochs: Int = 20

  @Option(help: "Rows per mini-batch.")
  var batchSize: Int = 32

  @OptionGroup var optimization: OptimizerOptions

  @Option(help: "Seed for initialisation, shuffling and the validation split.")
  var seed: UInt64 = 0

  @OptionGroup var validation: ValidationOptions

  @Option(help: "Keras' decoupled weight decay for every parameter (variable -= variable * wd * lr).")
  var weightDecay: Double?

  @Option(
    help: ArgumentHelp(
      "Memory for the feature matrix, e.g. 512M, 4G (default: half the RAM); a larger one is streamed.",
      valueName: "bytes"))
  var maxMemory: String?

  @Option(
    help: ArgumentHelp(
      "A sigmoid head's decision threshold instead of the one tuned on validation, NAME=VALUE or VALUE "
        + "for every sigmoid head (repeatable).", valueName: "threshold"))
  var threshold: [String] = []

  @Option(help: ArgumentHelp("Write the metrics as JSON.", valueName: "file.json"))
  var metrics: String?

  @Option(
    help: ArgumentHelp(
      "Write every validation and test row a classification head got wrong as CSV "
        + "(split, path, head, label, predicted, score).", valueName: "file.csv"))
  var misclassified: String?

  @Option(help: ArgumentHelp("Write the trained heads, their settings and provenance.", valueName: "heads.h5"))
  var output: String?

  @Option(help: ArgumentHelp("Write a self-contained HTML report of the run.", valueName: "report.html"))
  var report: String?

  @Option(
    help: ArgumentHelp(
      "The image folder extract read (--report shows thumbnails of the worst rows).", valueName: "dir"))
  var images: String?

  @Flag(help: "No per-epoch lines.")
  var quiet = false

  func run() throws {
    let lock = try output.flatMap(OutputLock.acquire(for:))
    defer { lock?.release() }
    if images != nil && report == nil {
      throw FitError.usage("--images only gives the report its thumbnails: add --report FILE.html")
    }
    var requests = try head.map(HeadRequest.parse)
    if let heads { requests += try HeadRequest.load(file: heads) }
    var options = FitOptions(features: features, heads: requests)
    options.epochs = epochs
    options.batchSize = batchSize
    options.optimizer = optimization.optimizer.rawValue
    options.learningRate = optimization.learningRate
    options.seed = seed
    options.valSplit = validation.valSplit
    options.patience = validation.patience
    options.labels = labels
    options.taps = taps.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    options.recordEpochMetrics = report != nil
    options.weightDecay = weightDecay
    for text in threshold {
      let (name, value) = try parseThreshold(text)
      options.thresholds[name] = value
    }
    if let maxMemory {
      guard let bytes = parseByteCount(maxMemory) else {
        throw FitError.usage("--max-memory \(maxMemory): expected a byte count such as 512M or 4G")
      }
      options.maxMemory = bytes
    }
    let started = Date()
    let quiet = self.quiet
    let result = try runFit(options) { line in
      // Warnings are shown even with --quiet.
      if !quiet || line.hasPrefix("warning:") { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }
    let seconds = Date().timeIntervalSince(started)
    print(
      "trained \(result.heads.count) head(s) on \(result.rows.train) rows (val \(result.rows.val), test "
        + "\(result.rows.test)) in \(String(format: "%.2f", seconds)) s; best epoch \(result.bestEpoch) of "
        + "\(result.epochsRun)")
    let width = max(8, result.heads.map(\.name.count).max() ?? 0)
    for (name, report) in result.heads {
      let padded = name.padding(toLength: width, withPad: " ", startingAt: 0)
      let kind = report.kind.padding(toLength: 9, withPad: " ", startingAt: 0)
      if let val = report.val { print("  \(padded)  \(kind)  val   \(val.headline)") }
      if let test = report.test { print("  \(padded)  \(kind)  test  \(test.headline)") }
    }
    if let metrics {
      try result.metricsJSON().write(to: URL(fileURLWithPath: metrics))
      print("metrics -> \(metrics)")
    }
    if let misclassified {
      try AtomicFile.replace(misclassified) {
        try result.misclassifiedCSV().write(toFile: $0, atomically: false, encoding: .utf8)
      }
      print("misclassified -> \(misclassified)")
    }
    if let output {
      try result.headsFile.write(to: output)
      print("heads -> \(output)")
    }
    if let report {
      try writeReport(result, options: options, seconds: seconds, images: images, to: report)
      print("report -> \(report)")
    }
  }
}
