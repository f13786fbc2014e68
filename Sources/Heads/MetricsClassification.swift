// Validation/test metrics of a softmax head: accuracy with a Wilson 95% interval, per-class
// precision/recall/F1/support, the confusion matrix and macro F1.
//
// Scores are (N, classes) row-major; the predicted class is the argmax (the first of equal
// maxima, as numpy's argmax). Labels are class indices, -1 where missing; missing rows are
// skipped everywhere. All sums are counted in integers and divided once in Double.

import Foundation

/// z for a two-sided 95% normal interval: the 0.975 quantile of N(0, 1), as
/// `scipy.stats.norm.ppf(0.975)` prints it.
public let z95: Double = 1.959963984540054

/// The Wilson score interval for a proportion `successes / trials` (Wilson 1927):
///
///     p = s/n,  centre = (p + z²/2n) / (1 + z²/n),
///     half = z / (1 + z²/n) · sqrt(p(1-p)/n + z²/4n²),  interval = [centre - half, centre + half].
///
/// Chosen over the textbook Wald interval p ± z·sqrt(p(1-p)/n) because validation sets are
/// often small and accuracies often near 0 or 1: there Wald collapses to a zero-width interval
/// at p = 0 or 1 and can leave [0, 1]; Wilson stays inside [0, 1], has a width > 0 and keeps
/// close to its nominal coverage. With no trials the interval is the uninformative [0, 1].
public func wilsonInterval(successes: Int, trials: Int, z: Double = z95) -> (low: Double, high: Double) {
  precondition(successes >= 0 && successes <= trials, "successes must be in 0...trials")
  guard trials > 0 else { return (0, 1) }
  let n = Double(trials)
  let p = Double(successes) / n
  let z2 = z * z
  let denominator = 1 + z2 / n
  let centre = (p + z2 / (2 * n)) / denominator
  let half = z / denominator * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
  return (max(0, centre - half), min(1, centre + half))
}

/// `numerator / denominator`, with 0/0 (and x/0) defined as 0, as scikit-learn's
/// `zero_division=0`: a class never predicted has precision 0, a class never present recall 0.
@inlinable
func ratioOrZero(_ numerator: Double, _ denominator: Double) -> Double {
  denominator == 0 ? 0 : numerator / denominator
}

/// One class's row of a classification report.
public struct ClassMetrics: Codable, Equatable, Sendable {
  /// TP / (TP + FP); 0 when the class is never predicted.
  public var precision: Double
  /// TP / (TP + FN); 0 when the class never occurs.
  public var recall: Double
  /// 2·P·R / (P + R); 0 when P + R = 0.
  public var f1: Double
  /// Labelled rows whose true class is this class (TP + FN).
  public var support: Int

  public init(precision: Double, recall: Double, f1: Double, support: Int) {
    self.precision = precision
    self.recall = recall
    self.f1 = f1
    self.support = support
  }
}

/// Metrics of a softmax head on one split. Encodes as
/// `{"count", "accuracy", "accuracy_ci95": [lo, hi], "per_class": {name: {...}}, "confusion",
/// "macro_f1", "class_names"}`.
public struct ClassificationMetrics: Codable, Equatable, Sendable {
  /// Labelled rows evaluated (rows with label -1 are not counted).
  public var count: Int
  /// Correct / count; 0 when count is 0.
  public var accuracy: Double
  /// Wilson score 95% interval of the accuracy, [low, high].
  public var accuracyCI95: [Double]
  /// Per-class metrics keyed by class name.
  public var perClass: [String: ClassMetrics]
  /// Class names in index order (the keys of `perClass`, ordered).
  public var classNames: [String]
  /// confusion[true][predicted] = number of rows, (classes, classes).
  public var confusion: [[Int]]
  /// Unweighted mean of the per-class F1 over all classes, including classes with no support
  /// (scikit-learn `f1_score(average='macro', labels=range(classes))`).
  public var macroF1: Double

  enum CodingKeys: String, CodingKey {
    case count, accuracy, confusion
    case accuracyCI95 = "accuracy_ci95"
    case perClass = "per_class"
    case classNames = "class_names"
    case macroF1 = "macro_f1"
  }
}

/// Argmax of each row of `scores`, (N, classes) -> (N); the first index among equal maxima.
public func predictedClasses(scores: [Float], classes: Int) -> [Int] {
  precondition(classes > 0 && scores.count % classes == 0, "scores must be (N, classes)")
  return (0..<scores.count / classes).map { row in
    var best = 0
    for c in 1..<classes where scores[row * classes + c] > scores[row * classes + best] { best = c }
    return best
  }
}

/// Confusion matrix [true][predicted] of labelled rows; rows with a negative label are skipped.
public func confusionMatrix(labels: [Int32], predicted: [Int], classes: Int) -> [[Int]] {
  precondition(labels.count == predicted.count, "one prediction per label")
  var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
  for (label, guess) in zip(labels, predicted) where label >= 0 {
    precondition(Int(label) < classes && guess >= 0 && guess < classes, "class index out of range")
    confusion[Int(label)][guess] += 1
  }
  return confusion
}

/// Per-class precision, recall, F1 and support from a confusion matrix [true][predicted]:
/// TP = C[k][k], FP = column sum - TP, FN = row sum - TP; 0/0 is 0 (scikit-learn's
/// `precision_recall_fscore_support(..., zero_division=0)`).
public func perClassMetrics(confusion: [[Int]]) -> [ClassMetrics] {
  let classes = confusion.count
  return (0..<classes).map { k in
    let tp = confusion[k][k]
    let predictedK = (0..<classes).reduce(0) { $0 + confusion[$1][k] }
    let support = confusion[k].reduce(0, +)
    let precision = ratioOrZero(Double(tp), Double(predictedK))
    let recall = ratioOrZero(Double(tp), Double(support))
    let f1 = ratioOrZero(2 * precision * recall, precision + recall)
    return ClassMetrics(precision: precision, recall: recall, f1: f1, support: support)
  }
}

/// All softmax-head metrics from class scores (probabilities or logits), (N, classes), and
/// labels (N) with -1 for missing. `classNames` (unique) defaults to "0", "1", ...
public func classificationMetrics(
  scores: [Float], labels: [Int32], classes: Int, classNames: [String]? = nil
) -> ClassificationMetrics {
  precondition(scores.count == labels.count * classes, "scores must be (N, classes) for N labels")
  let names = classNames ?? (0..<classes).map(String.init)
  precondition(names.count == classes, "one name per class")
  precondition(Set(names).count == classes, "class names must be unique: they key per_class")
  let confusion = confusionMatrix(
    labels: labels, predicted: predictedClasses(scores: scores, classes: classes), classes: classes)
  let count = confusion.reduce(0) { $0 + $1.reduce(0, +) }
  let correct = (0..<classes).reduce(0) { $0 + confusion[$1][$1] }
  let perClass = perClassMetrics(confusion: confusion)
  let interval = wilsonInterval(successes: correct, trials: count)
  return ClassificationMetrics(
    count: count,
    accuracy: ratioOrZero(Double(correct), Double(count)),
    accuracyCI95: [interval.low, interval.high],
    perClass: Dictionary(uniqueKeysWithValues: zip(names, perClass)),
    classNames: names,
    confusion: confusion,
    macroF1: perClass.reduce(0) { $0 + $1.f1 } / Double(classes))
}
