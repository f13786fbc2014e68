// The metrics against scikit-learn 1.9.1 and scipy 1.17.1 on a few random cases
// (Tests/Fixtures/metrics/make_metrics_fixtures.py -> metrics_fixtures.json): per-class
// precision/recall/F1/support, confusion matrices, macro F1, roc_auc_score, pearsonr, MAE/RMSE,
// the Wilson interval by its formula and brute-force tuned thresholds. Agreement to 1e-9
// relative (1e-12 absolute near 0); the largest relative difference is printed.

import Foundation
import Heads
import XCTest

private struct MetricsFixture: Decodable {
  struct Classification: Decodable {
    var classes: Int
    var scores: [Double]
    var labels: [Int32]
    var count: Int
    var accuracy: Double
    var accuracy_ci95: [Double]
    var precision: [Double]
    var recall: [Double]
    var f1: [Double]
    var support: [Int]
    var confusion: [[Int]]
    var macro_f1: Double
  }
  struct Tuned: Decodable {
    var threshold: Double
    var accuracy: Double
    var f1: Double
  }
  struct SigmoidLabel: Decodable {
    var count: Int
    var positives: Int
    var accuracy_at_half: Double
    var roc_auc: Double?
    var max_f1: Tuned
    var balanced_errors: Tuned
  }
  struct Sigmoid: Decodable {
    var label_count: Int
    var scores: [Double]
    var labels: [Double]
    var per_label: [SigmoidLabel]
  }
  struct Regression: Decodable {
    var low: Double
    var high: Double
    var outputs: [Double]
    var labels: [Double?]
    var predictions: [Double]
    var count: Int
    var mae: Double
    var rmse: Double
    var pearson_r: Double
  }
  var z95: Double
  var classification: [Classification]
  var sigmoid: [Sigmoid]
  var regression: [Regression]
}

final class MetricsFixtureTests: XCTestCase {
  private var maxRelative = 0.0

  private func load() throws -> MetricsFixture {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures/metrics/metrics_fixtures.json")
    return try JSONDecoder().decode(MetricsFixture.self, from: Data(contentsOf: url))
  }

  private func assertClose(
    _ got: Double, _ want: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    let difference = abs(got - want)
    let scale = max(abs(got), abs(want))
    if scale > 0 { maxRelative = max(maxRelative, difference / scale) }
    XCTAssertTrue(
      difference <= 1e-9 * scale || difference <= 1e-12, "\(what): \(got) vs sklearn \(want)", file: file,
      line: line)
  }

  func testZ95MatchesScipy() throws {
    XCTAssertEqual(z95, try load().z95)
  }

  func testClassificationAgainstScikitLearn() throws {
    maxRelative = 0
    for (i, c) in try load().classification.enumerated() {
      let m = classificationMetrics(scores: c.scores.map { Float($0) }, labels: c.labels, classes: c.classes)
      XCTAssertEqual(m.count, c.count, "case \(i)")
      XCTAssertEqual(m.confusion, c.confusion, "case \(i)")
      assertClose(m.accuracy, c.accuracy, "case \(i) accuracy")
      assertClose(m.accuracyCI95[0], c.accuracy_ci95[0], "case \(i) ci low")
      assertClose(m.accuracyCI95[1], c.accuracy_ci95[1], "case \(i) ci high")
      assertClose(m.macroF1, c.macro_f1, "case \(i) macro F1")
      for k in 0..<c.classes {
        let got = m.perClass[String(k)]!
        assertClose(got.precision, c.precision[k], "case \(i) class \(k) precision")
        assertClose(got.recall, c.recall[k], "case \(i) class \(k) recall")
        assertClose(got.f1, c.f1[k], "case \(i) class \(k) F1")
        XCTAssertEqual(got.support, c.support[k], "case \(i) class \(k) support")
      }
    }
    print("classification vs scikit-learn: max relative difference \(maxRelative)")
  }

  func testSigmoidAgainstScikitLearn() throws {
    maxRelative = 0
    for (i, s) in try load().sigmoid.enumerated() {
      let scores = s.scores.map { Float($0) }
      let labels = s.labels.map { Float($0) }
      for rule in ThresholdRule.allCases {
        let m = sigmoidMetrics(scores: scores, labels: labels, labelCount: s.label_count, rule: rule)
        for (j, want) in s.per_label.enumerated() {
          let got = m.labels[j]
          let tuned = rule == .maxF1 ? want.max_f1 : want.balanced_errors
          XCTAssertEqual(got.count, want.count, "case \(i) label \(j)")
          XCTAssertEqual(got.positives, want.positives, "case \(i) label \(j)")
          assertClose(got.accuracyAtHalf, want.accuracy_at_half, "case \(i) label \(j) accuracy at 0.5")
          XCTAssertEqual(got.threshold, tuned.threshold, "case \(i) label \(j) \(rule) threshold")
          assertClose(got.accuracyAtThreshold, tuned.accuracy, "case \(i) label \(j) \(rule) accuracy")
          assertClose(got.f1AtThreshold, tuned.f1, "case \(i) label \(j) \(rule) F1")
          if let auc = want.roc_auc {
            assertClose(got.rocAUC ?? .nan, auc, "case \(i) label \(j) ROC AUC")
          } else {
            XCTAssertNil(got.rocAUC, "case \(i) label \(j)")
          }
        }
      }
    }
    print("sigmoid vs scikit-learn: max relative difference \(maxRelative)")
  }

  func testRegressionAgainstScikitLearnAndScipy() throws {
    maxRelative = 0
    for (i, r) in try load().regression.enumerated() {
      let predictions = fromUnitRange(r.outputs.map { Float($0) }, low: r.low, high: r.high)
      for (got, want) in zip(predictions, r.predictions) { assertClose(got, want, "case \(i) inverse mapping") }
      let m = regressionMetrics(predictions: predictions, labels: r.labels.map { $0.map { Float($0) } ?? .nan })
      XCTAssertEqual(m.count, r.count, "case \(i)")
      assertClose(m.mae, r.mae, "case \(i) MAE")
      assertClose(m.rmse, r.rmse, "case \(i) RMSE")
      assertClose(m.pearsonR ?? .nan, r.pearson_r, "case \(i) Pearson r")
    }
    print("regression vs scikit-learn/scipy: max relative difference \(maxRelative)")
  }
}
