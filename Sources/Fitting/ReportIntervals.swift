// 95% intervals for the report's headline metrics. Accuracy already has its Wilson interval
// (MetricsClassification.swift); the others are the standard large-sample ones, each named
// where it is used so a reader can judge it.

import Foundation
import Heads

/// Mean of `values` with a normal-approximation 95% interval, mean ± z·s/sqrt(n) (s the sample
/// standard deviation, n - 1 in its denominator). For the mean absolute error and the mean wheel
/// distance, whose rows are independent; nil bounds when n < 2.
func meanInterval(_ values: [Double], z: Double = z95) -> (mean: Double, low: Double?, high: Double?) {
  let n = Double(values.count)
  guard !values.isEmpty else { return (0, nil, nil) }
  let mean = values.reduce(0, +) / n
  guard values.count >= 2 else { return (mean, nil, nil) }
  let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
  let half = z * (variance / n).squareRoot()
  return (mean, mean - half, mean + half)
}

/// Fisher's z interval for a Pearson correlation r of n pairs: tanh(atanh(r) ± z/sqrt(n - 3)).
/// nil when n <= 3 or |r| = 1.
func pearsonInterval(r: Double, count: Int, z: Double = z95) -> (low: Double, high: Double)? {
  guard count > 3, abs(r) < 1 else { return nil }
  let centre = atanh(r)
  let half = z / Double(count - 3).squareRoot()
  return (tanh(centre - half), tanh(centre + half))
}

/// Hanley & McNeil's (1982) interval for a ROC AUC A with P positives and N negatives:
/// Q1 = A/(2 - A), Q2 = 2A²/(1 + A),
/// SE² = (A(1 - A) + (P - 1)(Q1 - A²) + (N - 1)(Q2 - A²)) / (P·N), interval A ± z·SE clipped
/// to [0, 1].
func aucInterval(auc: Double, positives: Int, negatives: Int, z: Double = z95) -> (low: Double, high: Double)? {
  guard positives > 0, negatives > 0 else { return nil }
  let a = auc
  let q1 = a / (2 - a)
  let q2 = 2 * a * a / (1 + a)
  let p = Double(positives)
  let n = Double(negatives)
  let variance = (a * (1 - a) + (p - 1) * (q1 - a * a) + (n - 1) * (q2 - a * a)) / (p * n)
  let half = z * max(0, variance).squareRoot()
  return (max(0, a - half), min(1, a + half))
}

/// The Wilson interval of a proportion given as a rate of `count` rows.
func rateInterval(_ rate: Double, count: Int) -> (low: Double, high: Double) {
  let successes = min(count, max(0, Int((rate * Double(count)).rounded())))
  return wilsonInterval(successes: successes, trials: count)
}
