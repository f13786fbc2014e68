// Hand-computed known answers for the metrics in Sources/Heads/Metrics*.swift; the arithmetic
// is written beside each case. scikit-learn's numbers on random cases are in
// MetricsFixtureTests.swift.

import Foundation
import Heads
import XCTest

final class MetricsTests: XCTestCase {
  func testWilsonIntervalKnownValues() {
    // z² = 3.841458820694124.
    // 3/5: p = 0.6, z²/n = 0.76829, denominator 1.76829, centre = (0.6 + 0.38415) / 1.76829
    // = 0.55655, half = z / 1.76829 · sqrt(0.24/5 + 3.84146/100) = 1.10840 · 0.29394 = 0.32583
    // -> [0.23072, 0.88238] (the standard published Wilson interval for 3 of 5).
    let threeOfFive = wilsonInterval(successes: 3, trials: 5)
    XCTAssertEqual(threeOfFive.low, 0.2307242812760128, accuracy: 1e-12)
    XCTAssertEqual(threeOfFive.high, 0.882379225767352, accuracy: 1e-12)
    // 0/10: the upper end is (z²/n) / (1 + z²/n) = 0.38415 / 1.38415 = 0.27753 and the lower
    // end is 0, not the empty [0, 0] Wald would give.
    let noneOfTen = wilsonInterval(successes: 0, trials: 10)
    XCTAssertEqual(noneOfTen.low, 0, accuracy: 1e-15)
    XCTAssertEqual(noneOfTen.high, 0.2775327998628892, accuracy: 1e-12)
    // 10/10 mirrors it.
    let allOfTen = wilsonInterval(successes: 10, trials: 10)
    XCTAssertEqual(allOfTen.low, 1 - 0.2775327998628892, accuracy: 1e-12)
    XCTAssertEqual(allOfTen.high, 1, accuracy: 1e-15)
    // No trials: uninformative.
    XCTAssertEqual(wilsonInterval(successes: 0, trials: 0).low, 0)
    XCTAssertEqual(wilsonInterval(successes: 0, trials: 0).high, 1)
  }

  func testClassificationHandCase() {
    // Argmax of the rows: 0, 1, 1, 1, 0, 2 (the first of the tied 0.4s in row 4 is class 0).
    let scores: [Float] = [
      0.7, 0.2, 0.1,
      0.3, 0.6, 0.1,
      0.1, 0.8, 0.1,
      0.2, 0.5, 0.3,
      0.4, 0.2, 0.4,
      0.1, 0.1, 0.8,
    ]
    // The last row is missing and skipped (its prediction, 2, counts nowhere).
    let labels: [Int32] = [0, 0, 1, 1, 2, -1]
    let metrics = classificationMetrics(scores: scores, labels: labels, classes: 3)
    // confusion[true][predicted]: true 0 -> 0, 1; true 1 -> 1, 1; true 2 -> 0.
    XCTAssertEqual(metrics.confusion, [[1, 1, 0], [0, 2, 0], [1, 0, 0]])
    // 3 correct of 5 labelled rows.
    XCTAssertEqual(metrics.count, 5)
    XCTAssertEqual(metrics.accuracy, 0.6, accuracy: 1e-15)
    XCTAssertEqual(metrics.accuracyCI95[0], 0.2307242812760128, accuracy: 1e-12)
    XCTAssertEqual(metrics.accuracyCI95[1], 0.882379225767352, accuracy: 1e-12)
    // class 0: TP 1, predicted 2 (column 1+0+1), support 2 -> P 1/2, R 1/2, F1 1/2.
    // class 1: TP 2, predicted 3, support 2 -> P 2/3, R 1, F1 = 2·(2/3)·1 / (5/3) = 4/5.
    // class 2: TP 0, never predicted -> P 0/0 := 0, support 1 -> R 0, F1 0/0 := 0.
    let expected: [(Double, Double, Double, Int)] = [(0.5, 0.5, 0.5, 2), (2.0 / 3, 1, 0.8, 2), (0, 0, 0, 1)]
    for (k, (p, r, f, s)) in expected.enumerated() {
      let got = metrics.perClass[String(k)]!
      XCTAssertEqual(got.precision, p, accuracy: 1e-15, "class \(k)")
      XCTAssertEqual(got.recall, r, accuracy: 1e-15, "class \(k)")
      XCTAssertEqual(got.f1, f, accuracy: 1e-15, "class \(k)")
      XCTAssertEqual(got.support, s, "class \(k)")
    }
    // macro F1 = (0.5 + 0.8 + 0) / 3 = 0.4333...
    XCTAssertEqual(metrics.macroF1, 1.3 / 3, accuracy: 1e-15)
  }

  func testClassificationJSONKeys() throws {
    let metrics = classificationMetrics(
      scores: [0.9, 0.1, 0.2, 0.8], labels: [0, 0], classes: 2, classNames: ["cat", "dog"])
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let json = String(decoding: try encoder.encode(metrics), as: UTF8.self)
    for key in [
      "\"accuracy\":0.5", "\"accuracy_ci95\":[", "\"per_class\":{\"cat\":", "\"confusion\":[[1,1],[0,0]]",
      "\"macro_f1\":", "\"class_names\":[\"cat\",\"dog\"]", "\"support\":2",
    ] {
      XCTAssertTrue(json.contains(key), "\(key) missing from \(json)")
    }
    XCTAssertEqual(try JSONDecoder().decode(ClassificationMetrics.self, from: Data(json.utf8)), metrics)
  }

  func testROCAUCHandCases() {
    // scikit-learn's documented example: negatives 0.1, 0.4; positives 0.35, 0.8. Pairs won by
    // the positive: (0.35 > 0.1), (0.8 > 0.1), (0.8 > 0.4) = 3 of 4 -> 0.75.
    XCTAssertEqual(rocAUC(scores: [0.1, 0.4, 0.35, 0.8], positive: [false, false, true, true])!, 0.75)
    // A tie: positives 0.5, 0.9; negatives 0.2, 0.5. Pairs: 1 + 0.5 (tie) + 1 + 1 = 3.5 of 4.
    // By ranks: mid-ranks 1, 2.5, 2.5, 4; positives 2.5 + 4 = 6.5; (6.5 - 3) / 4 = 0.875.
    XCTAssertEqual(rocAUC(scores: [0.2, 0.5, 0.5, 0.9], positive: [false, true, false, true])!, 0.875)
    // All tied: 0.5. One class only: undefined.
    XCTAssertEqual(rocAUC(scores: [0.3, 0.3], positive: [true, false])!, 0.5)
    XCTAssertNil(rocAUC(scores: [0.3, 0.4], positive: [true, true]))
  }

  func testThresholdTuningHandCase() {
    let scores: [Float] = [0.1, 0.3, 0.6, 0.7, 0.9]
    let positive = [false, true, false, true, true]
    // P = 3, N = 2. Threshold t (positive iff score >= t), from the top:
    //   t     TP FP FN   F1 = 2TP/(2TP+FP+FN)   FPR   FNR   |FPR-FNR|
    //   0.9   1  0  2    2/4 = 0.5              0     2/3   2/3
    //   0.7   2  0  1    4/5 = 0.8              0     1/3   1/3
    //   0.6   2  1  1    4/6 = 0.667            1/2   1/3   1/6   <- balancedErrors
    //   0.3   3  1  0    6/7 = 0.857  <- maxF1  1/2   0     1/2
    //   0.1   3  2  0    6/8 = 0.75             1     0     1
    XCTAssertEqual(tuneThreshold(scores: scores, positive: positive, rule: .maxF1), Double(Float(0.3)))
    XCTAssertEqual(tuneThreshold(scores: scores, positive: positive, rule: .balancedErrors), Double(Float(0.6)))

    // The same data as a one-label sigmoid head with one more, missing, row.
    let metrics = sigmoidMetrics(
      scores: scores + [0.95], labels: [0, 1, 0, 1, 1, -1], labelCount: 1, labelNames: ["tag"])
    let label = metrics.labels[0]
    XCTAssertEqual(metrics.thresholdRule, .maxF1)
    XCTAssertEqual(label.count, 5)
    XCTAssertEqual(label.positives, 3)
    // At 0.5 the predictions are F F T T T: rows 0.3 and 0.6 wrong -> 3/5.
    XCTAssertEqual(label.accuracyAtHalf, 0.6, accuracy: 1e-15)
    // At 0.3 the predictions are F T T T T: only 0.6 wrong -> 4/5; F1 6/7.
    XCTAssertEqual(label.threshold, Double(Float(0.3)))
    XCTAssertEqual(label.accuracyAtThreshold, 0.8, accuracy: 1e-15)
    XCTAssertEqual(label.f1AtThreshold, 6.0 / 7, accuracy: 1e-15)
    // AUC: positives 0.3, 0.7, 0.9 against negatives 0.1, 0.6: 1 + 0 + 1 + 1 + 1 + 1 = 5 of 6.
    XCTAssertEqual(label.rocAUC!, 5.0 / 6, accuracy: 1e-15)

    // A given (validation) threshold is used as is and no rule is reported.
    let given = sigmoidMetrics(scores: scores, labels: [0, 1, 0, 1, 1], labelCount: 1, thresholds: [0.65])
    XCTAssertNil(given.thresholdRule)
    XCTAssertEqual(given.labels[0].threshold, 0.65)
    // At 0.65: F F F T T -> only 0.3 wrong -> 4/5.
    XCTAssertEqual(given.labels[0].accuracyAtThreshold, 0.8, accuracy: 1e-15)
  }

  func testRegressionHandCase() {
    // Rows with NaN labels are skipped: p = [1, 2, 4], y = [2, 2, 6].
    let metrics = regressionMetrics(predictions: [1, 2, 3, 4], labels: [2, 2, .nan, 6])
    XCTAssertEqual(metrics.count, 3)
    // Errors -1, 0, -2: MAE = 3/3 = 1, RMSE = sqrt(5/3).
    XCTAssertEqual(metrics.mae, 1, accuracy: 1e-15)
    XCTAssertEqual(metrics.rmse, (5.0 / 3).squareRoot(), accuracy: 1e-15)
    // Means 7/3 and 10/3; deviations (-4/3, -1/3, 5/3) and (-4/3, -4/3, 8/3):
    // Sxy = 60/9, Sxx = 42/9, Syy = 96/9, r = 60 / sqrt(42·96) = 60 / (24·sqrt 7) = 2.5 / sqrt 7.
    XCTAssertEqual(metrics.pearsonR!, 2.5 / 7.0.squareRoot(), accuracy: 1e-15)
    // Constant predictions: r undefined, and omitted from the JSON.
    let flat = regressionMetrics(predictions: [3, 3, 3], labels: [1, 2, 3])
    XCTAssertNil(flat.pearsonR)
    // |3-1| + |3-2| + |3-3| = 3 over 3 rows.
    XCTAssertEqual(flat.mae, 1, accuracy: 1e-15)
  }

  func testFromUnitRangeInvertsTheTargetMapping() {
    // [0, 10] -> [-1, 1]: -1 -> 0, 0 -> 5, 0.5 -> 7.5, 1 -> 10.
    XCTAssertEqual(fromUnitRange([-1, 0, 0.5, 1], low: 0, high: 10), [0, 5, 7.5, 10])
    // Round trip through HeadTargets.regression (which rounds to Float once).
    let labels: [Float] = [-3.5, 0, 17.25, 120]
    let targets = HeadTargets.regression(labels, low: -3.5, high: 120)
    for (back, label) in zip(fromUnitRange(targets.values, low: -3.5, high: 120), labels) {
      XCTAssertEqual(back, Double(label), accuracy: 1e-5 * 123.5)
    }
  }
}
