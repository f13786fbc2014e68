// Collecting a run's report: per-epoch validation metrics during training, then the kept
// model's per-row outputs turned into the plain `ReportDocument` that the Report target renders.

import FeatureStore
import Foundation
import Heads
import Report

/// The kept model's outputs on one split.
public struct SplitOutputs: Sendable {
  /// Feature-file row of each output row, ascending.
  public var rows: [Int]
  /// Per head, in head order, as `MultiHeadModel.predict` gives them: (rows, outputs) row-major.
  public var outputs: [[Float]]
}

/// What the report needs from a run beyond its results: the heads as resolved against the
/// feature file (labels, class names, ranges) and the file's paths and provenance.
struct ReportContext: Sendable {
  var heads: [ResolvedHead]
  var paths: [String]
  var attributes: FeatureFileAttributes
}

/// Each head's metrics from its `outputs` on the validation rows, for the per-epoch curves; with no
/// tuned thresholds handed over, sigmoid heads tune theirs on these rows, as the final metrics do.
func validationMetrics(heads: [ResolvedHead], outputs: [[Float]], rows: [Int]) -> [HeadMetrics] {
  heads.indices.map { metricsOf(heads[$0], outputs: outputs[$0], rows: rows, thresholds: nil) }
}

/// Writes the run's report page to `path`. `images` is the folder `extract --images` read (the
/// feature file's paths are relative to it), for thumbnails of the worst rows; `seconds` the
/// run's wall time.
public func writeReport(
  _ result: FitResult, options: FitOptions, seconds: Double, images: String?, to path: String
) throws {
  let html = renderReport(reportDocument(result, options: options, seconds: seconds, images: images))
  do {
    try Data(html.utf8).write(to: URL(fileURLWithPath: path))
  } catch {
    throw FitError.usage("--report \(path): cannot write the file (\(error.localizedDescription))")
  }
}

/// The report of a finished run, ready for `renderReport`.
public func reportDocument(_ result: FitResult, options: FitOptions, seconds: Double, images: String?)
  -> ReportDocument
{
  guard let context = result.reportContext else {
    return ReportDocument(title: "fit-heads report", facts: [], headlines: [], heads: [])
  }
  let a = context.attributes
  let taps = zip(a.taps, a.tapWidths).map { "\($0) (\($1))" }.joined(separator: ", ")
  let rate = String(format: "%g", options.learningRate ?? TrainingDefaults.learningRate)
  let facts = [
    Fact("features", options.features),
    Fact("backbone", "\(a.backbone), \(a.height)x\(a.width) \(a.interpolation), taps \(taps)"),
    Fact("weights", (a.weightsFile as NSString).lastPathComponent),
    Fact("rows", "train \(result.rows.train) \u{b7} val \(result.rows.val) \u{b7} test \(result.rows.test)"),
    Fact("optimiser", "\(options.optimizer), learning rate \(rate), batch \(options.batchSize)"),
    Fact("epochs", "\(result.epochsRun) run of at most \(options.epochs) (patience \(options.patience))"),
    Fact("best epoch", "\(result.bestEpoch) (weights kept)"),
    Fact("time", String(format: "%.2f s", seconds)),
    Fact("seed", "\(options.seed)"),
    Fact("images", images ?? "not given (no thumbnails)"),
  ]
  var headlines: [HeadlineRow] = []
  var sections: [HeadSection] = []
  for (h, head) in context.heads.enumerated() {
    let report = result.heads[h].report
    for (split, outputs) in [("val", result.valOutputs), ("test", result.testOutputs)] {
      guard let outputs, let metrics = split == "val" ? report.val : report.test else { continue }
      headlines.append(
        headlineRow(head, metrics: metrics, split: split, outputs: outputs.outputs[h], rows: outputs.rows))
    }
    let shown = result.valOutputs ?? result.testOutputs
    let splitName = result.valOutputs != nil ? "validation" : "test"
    var section = HeadSection(
      name: head.spec.name, kind: head.spec.kind.rawValue, column: head.column,
      charts: charts(h, head: head, result: result), panels: [])
    if let shown {
      let threshold: Double?
      if case .sigmoid(let m)? = report.val ?? report.test {
        threshold = m.labels.first?.threshold
      } else {
        threshold = nil
      }
      section.panels = panels(head, outputs: shown.outputs[h], rows: shown.rows, split: splitName, threshold: threshold)
      let ranked = worstRows(head, outputs: shown.outputs[h], rows: shown.rows, threshold: threshold)
      section.worst = ranked.cases.prefix(8).map { item in
        var item = item
        let relative = context.paths.indices.contains(item.row) ? context.paths[item.row] : "row \(item.row)"
        item.worst.path = relative
        item.worst.thumbnail =
          images.map {
            makeThumbnail(
              pathBytes: filePathBytes(root: $0, stored: relative),
              shownAs: ($0 as NSString).appendingPathComponent(relative))
          }
          ?? .unavailable("no --images DIR given")
        return item.worst
      }
      section.worstRanking = ranked.ranking
    }
    sections.append(section)
  }
  let shownSplit = result.valOutputs != nil ? "validation" : "test"
  return ReportDocument(
    title: "fit-heads report: " + (options.features as NSString).lastPathComponent, facts: facts,
    warning: a.warning, headlines: headlines, heads: sections,
    notes: [
      "95% intervals: Wilson for accuracies, normal approximation for mean errors and wheel distances, "
        + "Fisher z for Pearson r, Hanley-McNeil for ROC AUC.",
      "Plots and worst rows use the kept (best-epoch) weights on the \(shownSplit) rows; curves show every "
        + "epoch run.",
    ])
}

/// One head's headline metrics on a split, with intervals.
func headlineRow(_ head: ResolvedHead, metrics: HeadMetrics, split: String, outputs: [Float], rows: [Int])
  -> HeadlineRow
{
  let kind = head.spec.kind.rawValue
  switch metrics {
  case .classification(let m):
    return HeadlineRow(
      head: head.spec.name, kind: kind, split: split, count: m.count,
      metrics: [
        MetricValue("accuracy", m.accuracy, low: m.accuracyCI95[0], high: m.accuracyCI95[1]),
        MetricValue("macro F1", m.macroF1),
      ])
  case .sigmoid(let m):
    let label = m.labels[0]
    let auc = label.rocAUC.flatMap {
      aucInterval(auc: $0, positives: label.positives, negatives: label.count - label.positives)
    }
    let accuracy = rateInterval(label.accuracyAtThreshold, count: label.count)
    var values = [MetricValue]()
    if let value = label.rocAUC { values.append(MetricValue("ROC AUC", value, low: auc?.low, high: auc?.high)) }
    values.append(MetricValue("accuracy", label.accuracyAtThreshold, low: accuracy.low, high: accuracy.high))
    values.append(MetricValue("threshold", label.threshold))
    return HeadlineRow(head: head.spec.name, kind: kind, split: split, count: label.count, metrics: values)
  case .regression(let m):
    let errors = regressionPairs(head, outputs: outputs, rows: rows).map { abs($0.predicted - $0.truth) }
    let mae = meanInterval(errors)
    var values = [MetricValue("MAE", m.mae, low: mae.low, high: mae.high), MetricValue("RMSE", m.rmse)]
    if let r = m.pearsonR {
      let interval = pearsonInterval(r: r, count: m.count)
      values.append(MetricValue("r", r, low: interval?.low, high: interval?.high))
    }
    return HeadlineRow(head: head.spec.name, kind: kind, split: split, count: m.count, metrics: values)
  case .embedding(let m):
    let accuracy = rateInterval(m.accuracy, count: m.count)
    let classes = head.classNames.count
    let distances = zip(rows, outputs).compactMap { (row, output) -> Double? in
      let label = Int(head.classLabels[row])
      guard label >= 0 else { return nil }
      let d = abs(Int(output) - label) % classes
      return Double(min(d, classes - d))
    }
    let distance = meanInterval(distances)
    return HeadlineRow(
      head: head.spec.name, kind: kind, split: split, count: m.count,
      metrics: [
        MetricValue("accuracy", m.accuracy, low: accuracy.low, high: accuracy.high),
        MetricValue("mean wheel distance", m.meanWheelDistance, low: distance.low, high: distance.high),
      ])
  }
}

/// (true, predicted) of a tanh head's labelled rows, in the label's units.
func regressionPairs(_ head: ResolvedHead, outputs: [Float], rows: [Int]) -> [(truth: Double, predicted: Double)] {
  guard let range = head.range else { return [] }
  return zip(rows, outputs).compactMap { (row, output) in
    let label = head.valueLabels[row]
    guard !label.isNaN else { return nil }
    return (Double(label), fromUnitRange(output, low: range.low, high: range.high))
  }
}

/// The head's loss curves, then its metric curves from the per-epoch validation metrics.
func charts(_ h: Int, head: ResolvedHead, result: FitResult) -> [LineChart] {
  let best = result.bestEpoch
  let lossName: String
  switch head.spec.kind {
  case .tanh: lossName = "MSE on [-1, 1]"
  case .softmax: lossName = "cross-entropy"
  case .sigmoid: lossName = "binary cross-entropy"
  case .embedding: lossName = "wheel cross-entropy"
  }
  var series = [Series(name: "train", values: result.history.map { $0.train.heads[h] }, role: .train)]
  if result.history.contains(where: { $0.val != nil }) {
    series.append(
      Series(name: "validation", values: result.history.map { $0.val?.heads[h] ?? .nan }, role: .validation))
  }
  var charts = [LineChart(title: "Loss", yLabel: lossName, series: series, bestEpoch: best)]
  let epochs = result.epochMetrics.map { $0[h] }
  guard !epochs.isEmpty else { return charts }
  switch head.spec.kind {
  case .softmax:
    let m = epochs.compactMap { if case .classification(let m) = $0 { return m } else { return nil } }
    charts.append(
      LineChart(
        title: "Validation accuracy", yLabel: "accuracy",
        series: [
          Series(
            name: "accuracy (95% band)", values: m.map(\.accuracy), role: .metric,
            bandLow: m.map { $0.accuracyCI95[0] },
            bandHigh: m.map { $0.accuracyCI95[1] }),
          Series(name: "macro F1", values: m.map(\.macroF1), role: .secondMetric),
        ], bestEpoch: best, yRange: 0...1))
  case .sigmoid:
    let m = epochs.compactMap { if case .sigmoid(let m) = $0 { return m.labels.first } else { return nil } }
    charts.append(
      LineChart(
        title: "Validation AUC and accuracy", yLabel: "score",
        series: [
          Series(name: "ROC AUC", values: m.map { $0.rocAUC ?? .nan }, role: .metric),
          Series(name: "accuracy at threshold", values: m.map(\.accuracyAtThreshold), role: .secondMetric),
        ], bestEpoch: best, yRange: 0...1))
  case .tanh:
    let m = epochs.compactMap { if case .regression(let m) = $0 { return m } else { return nil } }
    charts.append(
      LineChart(
        title: "Validation error (\(head.column) units)", yLabel: head.column,
        series: [
          Series(name: "MAE", values: m.map(\.mae), role: .metric),
          Series(name: "RMSE", values: m.map(\.rmse), role: .secondMetric),
        ], bestEpoch: best))
  case .embedding:
    let m = epochs.compactMap { if case .embedding(let m) = $0 { return m } else { return nil } }
    let intervals = m.map { rateInterval($0.accuracy, count: $0.count) }
    charts.append(
      LineChart(
        title: "Validation accuracy", yLabel: "accuracy",
        series: [
          Series(
            name: "accuracy (95% band)", values: m.map(\.accuracy), role: .metric, bandLow: intervals.map(\.low),
            bandHigh: intervals.map(\.high))
        ], bestEpoch: best, yRange: 0...1))
    charts.append(
      LineChart(
        title: "Validation wheel distance", yLabel: "wheel steps",
        series: [Series(name: "mean wheel distance", values: m.map(\.meanWheelDistance), role: .secondMetric)],
        bestEpoch: best))
  }
  return charts
}
