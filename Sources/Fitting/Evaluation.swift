// What a trained head achieved on a split, in its kind's own metrics.

import Foundation
import Heads

/// Metrics of one head on one split, in the kind's own form.
public enum HeadMetrics: Encodable, Sendable {
  case classification(ClassificationMetrics)
  case sigmoid(SigmoidMetrics)
  case regression(RegressionMetrics)
  case embedding(EmbeddingMetrics)

  public func encode(to encoder: Encoder) throws {
    switch self {
    case .embedding(let metrics): try metrics.encode(to: encoder)
    case .classification(let metrics): try metrics.encode(to: encoder)
    case .sigmoid(let metrics): try metrics.encode(to: encoder)
    case .regression(let metrics): try metrics.encode(to: encoder)
    }
  }

  /// The one number a person looks at first.
  public var headline: String {
    switch self {
    case .classification(let m):
      return String(
        format: "accuracy %.3f (95%% CI %.3f-%.3f), macro F1 %.3f", m.accuracy, m.accuracyCI95[0],
        m.accuracyCI95[1], m.macroF1)
    case .sigmoid(let m):
      // A multi-label head names each label: "warm: accuracy ...; busy: accuracy ...".
      return m.labels.map { label in
        (m.labels.count > 1 ? "\(label.name): " : "")
          + String(
            format: "accuracy %.3f at 0.5, %.3f (95%% CI %.3f-%.3f) at %.3f, AUC %@", label.accuracyAtHalf,
            label.accuracyAtThreshold, label.accuracyCI95[0], label.accuracyCI95[1], label.threshold,
            label.rocAUC.map { String(format: "%.3f", $0) } ?? "n/a")
      }.joined(separator: "; ")
    case .embedding(let m):
      return String(format: "accuracy %.3f, mean wheel distance %.3f", m.accuracy, m.meanWheelDistance)
    case .regression(let m):
      return String(
        format: "MAE %.3f, RMSE %.3f, r %@", m.mae, m.rmse, m.pearsonR.map { String(format: "%.3f", $0) } ?? "n/a")
    }
  }
}

/// What one head achieved.
public struct HeadReport: Encodable, Sendable {
  public var kind: String
  public var val: HeadMetrics?
  public var test: HeadMetrics?
}

func metricsOf(_ head: ResolvedHead, outputs: [Float], rows: [Int], thresholds: [Double]?) -> HeadMetrics {
  switch head.spec.kind {
  case .softmax:
    return .classification(
      classificationMetrics(
        scores: outputs, labels: rows.map { head.classLabels[$0] }, classes: head.spec.outputs,
        classNames: head.classNames))
  case .sigmoid:
    return .sigmoid(
      sigmoidMetrics(
        scores: outputs, labels: head.sigmoidLabels(rows: rows), labelCount: head.spec.outputs,
        labelNames: head.outputNames, thresholds: thresholds))
  case .embedding:
    return .embedding(
      embeddingMetrics(
        predictions: outputs.map { Int($0) }, labels: rows.map { head.classLabels[$0] },
        classes: head.classNames.count))
  case .tanh:
    return .regression(
      regressionMetrics(
        predictions: fromUnitRange(outputs, low: head.range!.low, high: head.range!.high),
        labels: rows.map { head.valueLabels[$0] }))
  }
}
