// Validation/test metrics of a tanh (regression) head: MAE, RMSE and Pearson r, in the
// labels' original units. The head predicts on [-1, 1]; map its outputs back with
// `fromUnitRange` first (the inverse of `HeadTargets.regression`'s mapping).

import Foundation

/// Inverse of the [low, high] -> [-1, 1] target mapping y = (x - low) / (high - low) · 2 - 1:
/// x = (y + 1) / 2 · (high - low) + low, in Double.
public func fromUnitRange(_ y: Float, low: Double, high: Double) -> Double {
  (Double(y) + 1) / 2 * (high - low) + low
}

/// `fromUnitRange` for every prediction.
public func fromUnitRange(_ ys: [Float], low: Double, high: Double) -> [Double] {
  ys.map { fromUnitRange($0, low: low, high: high) }
}

/// Metrics of one regression output on one split. Encodes as
/// `{"count", "mae", "rmse", "pearson_r"}`; `pearson_r` is omitted when undefined.
public struct RegressionMetrics: Codable, Equatable, Sendable {
  /// Labelled rows (NaN labels skipped).
  public var count: Int
  /// Σ|p - y| / n; 0 when n is 0.
  public var mae: Double
  /// sqrt(Σ(p - y)² / n); 0 when n is 0.
  public var rmse: Double
  /// Σ(p - p̄)(y - ȳ) / sqrt(Σ(p - p̄)² · Σ(y - ȳ)²); nil when n < 2 or either side is constant
  /// (scipy returns NaN there, which JSON cannot carry).
  public var pearsonR: Double?

  enum CodingKeys: String, CodingKey {
    case count, mae, rmse
    case pearsonR = "pearson_r"
  }
}

/// MAE, RMSE and Pearson r of `predictions` against `labels` (both (N), original units);
/// rows whose label is NaN are skipped. Means are taken first (two-pass), so r does not lose
/// precision when the values sit far from 0.
public func regressionMetrics(predictions: [Double], labels: [Float]) -> RegressionMetrics {
  precondition(predictions.count == labels.count, "one prediction per label")
  var p: [Double] = []
  var y: [Double] = []
  for (prediction, label) in zip(predictions, labels) where !label.isNaN {
    p.append(prediction)
    y.append(Double(label))
  }
  let n = Double(p.count)
  guard !p.isEmpty else { return RegressionMetrics(count: 0, mae: 0, rmse: 0, pearsonR: nil) }
  var absoluteSum = 0.0
  var squareSum = 0.0
  for (a, b) in zip(p, y) {
    absoluteSum += abs(a - b)
    squareSum += (a - b) * (a - b)
  }
  let meanP = p.reduce(0, +) / n
  let meanY = y.reduce(0, +) / n
  var sxy = 0.0
  var sxx = 0.0
  var syy = 0.0
  for (a, b) in zip(p, y) {
    sxy += (a - meanP) * (b - meanY)
    sxx += (a - meanP) * (a - meanP)
    syy += (b - meanY) * (b - meanY)
  }
  let r: Double? = p.count >= 2 && sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : nil
  return RegressionMetrics(
    count: p.count, mae: absoluteSum / n, rmse: (squareSum / n).squareRoot(),
    pearsonR: r.map { min(1, max(-1, $0)) })
}
