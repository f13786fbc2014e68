// Per-row views of the kept model for the report: each head's detail plots, and its worst
// rows ranked by their own loss.

import Foundation
import Heads
import Report

/// A row of the shown split with its report entry (path and thumbnail filled in later).
struct RankedCase {
  var row: Int
  var worst: WorstCase
}

/// The most rows a regression scatter draws.
let maxScatterPoints = 4000

/// The head's detail plots on the shown split: a confusion heat map (softmax, embedding), the
/// wheel (embedding), score histograms (sigmoid) or the predicted-vs-true scatter (tanh).
func panels(_ head: ResolvedHead, outputs: [Float], rows: [Int], split: String, threshold: Double?) -> [Panel] {
  let classes = head.classNames.count
  switch head.spec.kind {
  case .softmax, .embedding:
    var counts = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
    for (i, row) in rows.enumerated() where head.classLabels[row] >= 0 {
      let predicted =
        head.spec.kind == .embedding
        ? Int(outputs[i])
        : predictedClasses(scores: Array(outputs[(i * classes)..<((i + 1) * classes)]), classes: classes)[0]
      counts[Int(head.classLabels[row])][predicted] += 1
    }
    let confusion = Panel.confusion(
      ConfusionPlot(
        title: "Confusion on \(split) (rows true, columns predicted)", classNames: head.classNames, counts: counts))
    guard head.spec.kind == .embedding else { return [confusion] }
    return [
      .wheel(WheelPlot(title: "Where \(split) predictions land", classNames: head.classNames, counts: counts)),
      confusion,
    ]
  case .sigmoid:
    var scores: [[Double]] = [[], []]
    for (i, row) in rows.enumerated() where head.classLabels[row] >= 0 {
      scores[head.classLabels[row] > 0 ? 1 : 0].append(Double(outputs[i]))
    }
    let names = head.classNames.count == 2 ? head.classNames : ["negative", head.classNames.last ?? "positive"]
    return [
      .histogram(
        ScoreHistogram(
          title: "Scores on \(split) by true class", classNames: names, scores: scores, threshold: threshold ?? 0.5))
    ]
  case .tanh:
    var pairs = regressionPairs(head, outputs: outputs, rows: rows)
    // Past a few thousand dots a scatter is a blot and the page grows by ~150 bytes a dot:
    // show evenly spaced rows and say so.
    let all = pairs.count
    if all > maxScatterPoints {
      pairs = (0..<maxScatterPoints).map { pairs[$0 * all / maxScatterPoints] }
    }
    let shown = all > maxScatterPoints ? " (\(maxScatterPoints) of \(all) rows, evenly spaced)" : ""
    return [
      .scatter(
        ScatterPlot(
          title: "Predicted vs true \(head.column) on \(split)\(shown)", truth: pairs.map(\.truth),
          predicted: pairs.map(\.predicted), low: head.range?.low ?? 0, high: head.range?.high ?? 1))
    ]
  }
}

/// The labelled rows of the shown split, worst first, and what they are ranked by: a softmax
/// head's cross-entropy of the true class, a sigmoid head's binary cross-entropy, a tanh head's
/// absolute error in the label's units (the same order as its squared error), an embedding
/// head's wheel distance (its prediction is a class, so its loss is not kept). Ties keep row order.
func worstRows(_ head: ResolvedHead, outputs: [Float], rows: [Int], threshold: Double?)
  -> (cases: [RankedCase], ranking: String)
{
  let classes = head.classNames.count
  var cases: [RankedCase] = []
  let ranking: String
  func add(_ row: Int, truth: String, predicted: String, loss: Double, name: String) {
    cases.append(
      RankedCase(
        row: row,
        worst: WorstCase(
          path: "", truth: truth, predicted: predicted, loss: loss, lossName: name, thumbnail: .unavailable(""))))
  }
  switch head.spec.kind {
  case .softmax:
    ranking = "cross-entropy of the true class"
    for (i, row) in rows.enumerated() where head.classLabels[row] >= 0 {
      let p = Array(outputs[(i * classes)..<((i + 1) * classes)])
      let label = Int(head.classLabels[row])
      let guess = predictedClasses(scores: p, classes: classes)[0]
      add(
        row, truth: head.classNames[label],
        predicted: "\(head.classNames[guess]) (p \(String(format: "%.2f", p[guess])))",
        loss: -log(max(Double(p[label]), 1e-7)), name: "loss")
    }
  case .sigmoid:
    ranking = "binary cross-entropy"
    let names = head.classNames.count == 2 ? head.classNames : ["negative", head.classNames.last ?? "positive"]
    for (i, row) in rows.enumerated() where head.classLabels[row] >= 0 {
      let p = min(max(Double(outputs[i]), 1e-7), 1 - 1e-7)
      let positive = head.classLabels[row] > 0
      let called = Double(outputs[i]) >= (threshold ?? 0.5)
      add(
        row, truth: names[positive ? 1 : 0], predicted: "\(names[called ? 1 : 0]) (score \(String(format: "%.2f", p)))",
        loss: positive ? -log(p) : -log(1 - p), name: "loss")
    }
  case .tanh:
    ranking = "absolute error in \(head.column) units"
    for (i, row) in rows.enumerated() {
      let label = head.valueLabels[row]
      guard !label.isNaN, let range = head.range else { continue }
      let predicted = fromUnitRange(outputs[i], low: range.low, high: range.high)
      add(
        row, truth: String(format: "%.2f", label), predicted: String(format: "%.2f", predicted),
        loss: abs(predicted - Double(label)), name: "|error|")
    }
  case .embedding:
    ranking = "wheel distance (steps)"
    for (i, row) in rows.enumerated() where head.classLabels[row] >= 0 {
      let label = Int(head.classLabels[row])
      let guess = Int(outputs[i])
      let d = abs(guess - label) % classes
      add(
        row, truth: head.classNames[label], predicted: head.classNames[guess], loss: Double(min(d, classes - d)),
        name: "steps off")
    }
  }
  // Stable: sort by loss descending, ties by position.
  let order = cases.indices.sorted {
    cases[$0].worst.loss > cases[$1].worst.loss || (cases[$0].worst.loss == cases[$1].worst.loss && $0 < $1)
  }
  return (order.map { cases[$0] }, ranking)
}
