// Validation/test metrics of a sigmoid head, one label (column) at a time: accuracy at 0.5,
// accuracy at a threshold tuned on validation scores, and ROC AUC.
//
// Scores and labels are (N, labels) row-major. A label value is 1 (positive) or 0 (negative);
// a negative or NaN value is missing and that cell is skipped (`HeadTargets.multiLabel` marks a
// whole row missing with negative values). A row is predicted positive when score >= threshold.

import Foundation

/// How `tuneThreshold` picks a label's decision threshold on validation scores.
public enum ThresholdRule: String, Codable, CaseIterable, Sendable {
  /// Maximise F1 = 2TP / (2TP + FP + FN) of the positive class.
  case maxF1 = "max_f1"
  /// Make the two classes' error rates equal: minimise |FPR - FNR| with
  /// FPR = FP / negatives and FNR = FN / positives (the ROC curve's equal-error point).
  case balancedErrors = "balanced_errors"
}

/// One label's metrics. Encodes with snake_case keys; `roc_auc` is omitted when undefined.
public struct SigmoidLabelMetrics: Codable, Equatable, Sendable {
  public var name: String
  /// Labelled rows for this label.
  public var count: Int
  /// Labelled rows that are positive.
  public var positives: Int
  /// Accuracy of `score >= 0.5`; 0 when count is 0.
  public var accuracyAtHalf: Double
  /// The threshold used for `accuracyAtThreshold`: tuned on these scores, or given by the caller
  /// (the validation threshold when evaluating a test split).
  public var threshold: Double
  /// Accuracy of `score >= threshold`.
  public var accuracyAtThreshold: Double
  /// Its 95% Wilson interval, [low, high], as the softmax heads' accuracy has.
  public var accuracyCI95: [Double] = [0, 1]
  /// F1 of the positive class at `threshold`; 0 when 0/0.
  public var f1AtThreshold: Double
  /// Area under the ROC curve; nil when only one class is present (it is undefined there, and
  /// scikit-learn raises).
  public var rocAUC: Double?

  enum CodingKeys: String, CodingKey {
    case name, count, positives, threshold
    case accuracyAtHalf = "accuracy_at_half"
    case accuracyAtThreshold = "accuracy_at_threshold"
    case accuracyCI95 = "accuracy_ci95"
    case f1AtThreshold = "f1_at_threshold"
    case rocAUC = "roc_auc"
  }
}

/// Metrics of a sigmoid head on one split: `{"threshold_rule", "labels": [...]}`.
public struct SigmoidMetrics: Codable, Equatable, Sendable {
  /// The rule the thresholds were tuned with, or nil when the caller supplied them.
  public var thresholdRule: ThresholdRule?
  public var labels: [SigmoidLabelMetrics]

  enum CodingKeys: String, CodingKey {
    case labels
    case thresholdRule = "threshold_rule"
  }
}

/// ROC AUC by ranks (the Mann-Whitney U statistic): with mid-ranks r (1-based, tied scores
/// share the mean of their ranks),
///
///     AUC = (Σ_{positives} r - P(P+1)/2) / (P · N),
///
/// i.e. the probability that a random positive scores above a random negative, ties counting
/// one half. This equals scikit-learn's `roc_auc_score` (trapezoids under the ROC curve).
/// Returns nil when there are no positives or no negatives.
public func rocAUC(scores: [Float], positive: [Bool]) -> Double? {
  precondition(scores.count == positive.count, "one score per label")
  let p = positive.filter { $0 }.count
  let n = positive.count - p
  guard p > 0, n > 0 else { return nil }
  let order = scores.indices.sorted { scores[$0] < scores[$1] }
  var positiveRankSum = 0.0
  var start = 0
  while start < order.count {
    var end = start
    while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
    // Ranks start+1 ... end+1 are shared: each gets their mean.
    let midRank = Double(start + end + 2) / 2
    for i in start...end where positive[order[i]] { positiveRankSum += midRank }
    start = end + 1
  }
  return (positiveRankSum - Double(p) * Double(p + 1) / 2) / (Double(p) * Double(n))
}

/// Confusion counts of `score >= threshold` against `positive`.
func binaryCounts(scores: [Float], positive: [Bool], threshold: Double)
  -> (tp: Int, fp: Int, tn: Int, fn: Int)
{
  var counts = (tp: 0, fp: 0, tn: 0, fn: 0)
  for (score, isPositive) in zip(scores, positive) {
    switch (Double(score) >= threshold, isPositive) {
    case (true, true): counts.tp += 1
    case (true, false): counts.fp += 1
    case (false, false): counts.tn += 1
    case (false, true): counts.fn += 1
    }
  }
  return counts
}

/// The decision threshold that best satisfies `rule` on these (validation) scores.
///
/// Candidates are the distinct scores themselves (positive iff score >= candidate), so every
/// achievable split of the sorted scores is tried. Ties between candidates go to the higher
/// threshold; for `balancedErrors` an equal |FPR - FNR| is first broken by the smaller
/// FPR + FNR. With no scores the threshold is 0.5.
public func tuneThreshold(scores: [Float], positive: [Bool], rule: ThresholdRule) -> Double {
  precondition(scores.count == positive.count, "one score per label")
  guard !scores.isEmpty else { return 0.5 }
  let positives = positive.filter { $0 }.count
  let negatives = positive.count - positives
  // Sweep from the highest score down; after consuming a block of equal scores, the
  // counts are those of thresholding at that score.
  let order = scores.indices.sorted { scores[$0] > scores[$1] }
  var tp = 0
  var fp = 0
  var best: (threshold: Double, key: (Double, Double))? = nil
  var start = 0
  while start < order.count {
    var end = start
    while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
    for i in start...end {
      if positive[order[i]] { tp += 1 } else { fp += 1 }
    }
    let fn = positives - tp
    // key: smaller is better, compared lexicographically.
    let key: (Double, Double)
    switch rule {
    case .maxF1:
      key = (-ratioOrZero(Double(2 * tp), Double(2 * tp + fp + fn)), 0)
    case .balancedErrors:
      let fpr = ratioOrZero(Double(fp), Double(negatives))
      let fnr = ratioOrZero(Double(fn), Double(positives))
      key = (abs(fpr - fnr), fpr + fnr)
    }
    // Strict `<` keeps the earlier, i.e. higher, threshold on ties.
    if best == nil || key < best!.key { best = (Double(scores[order[start]]), key) }
    start = end + 1
  }
  return best!.threshold
}

/// All sigmoid-head metrics. `scores` and `labels` are (N, labelCount); missing label cells
/// (negative or NaN) are skipped. With `thresholds` (one per label, e.g. tuned on the validation
/// split) those are used; otherwise each label's threshold is tuned here with `rule`.
public func sigmoidMetrics(
  scores: [Float], labels: [Float], labelCount: Int, labelNames: [String]? = nil,
  rule: ThresholdRule = .maxF1, thresholds: [Double]? = nil
) -> SigmoidMetrics {
  precondition(labelCount > 0 && scores.count == labels.count, "scores and labels must be (N, labels)")
  precondition(labels.count % labelCount == 0, "labels must be (N, labelCount)")
  precondition(thresholds == nil || thresholds!.count == labelCount, "one threshold per label")
  let names = labelNames ?? (0..<labelCount).map(String.init)
  precondition(names.count == labelCount, "one name per label")
  let rows = labels.count / labelCount
  let perLabel = (0..<labelCount).map { j -> SigmoidLabelMetrics in
    var column: [Float] = []
    var positive: [Bool] = []
    for row in 0..<rows {
      let label = labels[row * labelCount + j]
      guard !label.isNaN, label >= 0 else { continue }
      column.append(scores[row * labelCount + j])
      positive.append(label >= 0.5)
    }
    let threshold = thresholds?[j] ?? tuneThreshold(scores: column, positive: positive, rule: rule)
    let half = binaryCounts(scores: column, positive: positive, threshold: 0.5)
    let tuned = binaryCounts(scores: column, positive: positive, threshold: threshold)
    let count = column.count
    let interval = wilsonInterval(successes: tuned.tp + tuned.tn, trials: count)
    var metrics = SigmoidLabelMetrics(
      name: names[j], count: count, positives: positive.filter { $0 }.count,
      accuracyAtHalf: ratioOrZero(Double(half.tp + half.tn), Double(count)),
      threshold: threshold,
      accuracyAtThreshold: ratioOrZero(Double(tuned.tp + tuned.tn), Double(count)),
      f1AtThreshold: ratioOrZero(Double(2 * tuned.tp), Double(2 * tuned.tp + tuned.fp + tuned.fn)),
      rocAUC: rocAUC(scores: column, positive: positive))
    metrics.accuracyCI95 = [interval.low, interval.high]
    return metrics
  }
  return SigmoidMetrics(thresholdRule: thresholds == nil ? rule : nil, labels: perLabel)
}
