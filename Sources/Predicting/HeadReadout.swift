// From the heads' raw outputs to what a user reads: class names, labels over their thresholds,
// values in the label's own units, the hue of a colour wheel.
// Each head's output is (N, outputs) row-major, as `MultiHeadModel.predict` returns it.

import Heads

/// One head's prediction for one image.
public enum HeadPrediction: Equatable, Sendable {
  /// Softmax: the most probable class (the first on a tie) and every class' probability, in the
  /// order of the head's class names.
  case classification(predicted: String, probabilities: [Float])
  /// Sigmoid: the labels whose probability reaches their stored threshold (`p >= threshold`, as
  /// fit-heads evaluates them), in class-name order, and every label's probability.
  case labels([String], probabilities: [Float])
  /// Tanh: each output mapped from [-1, 1] back onto the stored label range.
  case values([Float])
  /// Embedding: the wheel class whose learned vector is nearest the predicted one.
  case hue(String)
}

/// Every image's predictions, `[image][head]` in head order, from the model's outputs for
/// `rows` images. Outputs are read as `MultiHeadModel.predict` defines them (an embedding head's
/// output is the nearest class' index).
public func readHeads(_ heads: HeadsFile, outputs: [[Float]], rows: Int) -> [[HeadPrediction]] {
  precondition(outputs.count == heads.specs.count)
  return (0..<rows).map { row in
    heads.specs.enumerated().map { h, spec in
      let width = spec.kind == .embedding ? 1 : spec.outputs
      let values = Array(outputs[h][(row * width)..<((row + 1) * width)])
      switch spec.kind {
      case .softmax:
        let names = heads.classNames[spec.name] ?? []
        var best = 0
        for j in values.indices where values[j] > values[best] { best = j }
        return .classification(predicted: names[best], probabilities: values)
      case .sigmoid:
        let names = heads.classNames[spec.name] ?? []
        let thresholds = heads.thresholds[spec.name] ?? [Float](repeating: 0.5, count: values.count)
        let over = values.indices.filter { values[$0] >= thresholds[$0] }.map { names[$0] }
        return .labels(over, probabilities: values)
      case .tanh:
        let range = heads.labelRanges[spec.name] ?? -1...1
        return .values(values.map { originalUnits($0, range: range) })
      case .embedding:
        return .hue(spec.wheelClasses[Int(values[0])])
      }
    }
  }
}

/// The inverse of the training mapping `(label - low) / (high - low) * 2 - 1`, in float64 and
/// rounded once.
func originalUnits(_ value: Float, range: ClosedRange<Float>) -> Float {
  let low = Double(range.lowerBound)
  let high = Double(range.upperBound)
  return Float(low + (Double(value) + 1) / 2 * (high - low))
}
