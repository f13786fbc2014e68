// Validation/test metrics of a colour-wheel embedding head: accuracy of the nearest class vector
// and the mean circular distance, in wheel steps, between predicted and true class.

import Engine

/// Metrics of one embedding head on one split. Encodes as
/// `{"count", "accuracy", "mean_wheel_distance"}`.
public struct EmbeddingMetrics: Codable, Equatable, Sendable {
  /// Labelled rows (label -1 skipped).
  public var count: Int
  /// Fraction of rows whose nearest class is the true class; 0 when count is 0.
  public var accuracy: Double
  /// Mean of min(|p - y|, C - |p - y|) over rows, in 0 ... C / 2 (0 ... 6 for 12 classes);
  /// 0 when count is 0.
  public var meanWheelDistance: Double

  enum CodingKeys: String, CodingKey {
    case count, accuracy
    case meanWheelDistance = "mean_wheel_distance"
  }
}

/// Accuracy and mean wheel distance of predicted wheel indices against `labels` (both (N));
/// rows whose label is -1 are skipped.
public func embeddingMetrics(predictions: [Int], labels: [Int32], classes: Int) -> EmbeddingMetrics {
  precondition(predictions.count == labels.count, "one prediction per label")
  var count = 0
  var correct = 0
  var distance = 0
  for (p, y) in zip(predictions, labels) where y >= 0 {
    count += 1
    if p == Int(y) { correct += 1 }
    distance += wheelDistance(p, Int(y), classes: classes)
  }
  guard count > 0 else { return EmbeddingMetrics(count: 0, accuracy: 0, meanWheelDistance: 0) }
  return EmbeddingMetrics(
    count: count, accuracy: Double(correct) / Double(count), meanWheelDistance: Double(distance) / Double(count))
}
