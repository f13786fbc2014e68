// `fit-heads --misclassified FILE.csv`: every validation and test row a classification head got
// wrong, to look at the images (the dogs-versus-cats habit of checking what the model misses).
//
// Columns: split, path, head, label, predicted, score. Softmax and embedding heads name the true
// and the predicted class (score: the predicted class' probability; empty for embedding heads).
// A binary sigmoid head names its two classes (score: the positive class' probability against
// the head's threshold). A multi-label sigmoid head gives one line per wrong label, as
// `label:yes` / `label:no`. Regression heads have no wrong rows.

import FeatureStore
import Heads

extension FitResult {
  /// The CSV text, header first; rows in split order (val, test), then head, then row order.
  public func misclassifiedCSV() -> String {
    var text = csvLine(["split", "path", "head", "label", "predicted", "score"])
    guard let context = reportContext else { return text }
    for (split, shown) in [("val", valOutputs), ("test", testOutputs)] {
      guard let shown else { continue }
      for (h, head) in context.heads.enumerated() {
        let thresholds = headsFile.thresholds[head.spec.name] ?? []
        for line in wrongRows(head, outputs: shown.outputs[h], rows: shown.rows, thresholds: thresholds) {
          text += csvLine([split, context.paths[line.row], head.spec.name, line.label, line.predicted, line.score])
        }
      }
    }
    return text
  }
}

/// The rows of `rows` (their outputs in `outputs`, (rows, outputs)) that `head` classifies
/// wrongly, as (row, label, predicted, score) texts.
func wrongRows(_ head: ResolvedHead, outputs: [Float], rows: [Int], thresholds: [Float])
  -> [(row: Int, label: String, predicted: String, score: String)]
{
  var wrong: [(row: Int, label: String, predicted: String, score: String)] = []
  let width = head.spec.kind == .embedding ? 1 : head.spec.outputs
  for (i, row) in rows.enumerated() {
    let scores = outputs[(i * width)..<((i + 1) * width)]
    switch head.spec.kind {
    case .softmax, .embedding:
      let truth = Int(head.classLabels[row])
      guard truth >= 0 else { continue }
      let predicted =
        head.spec.kind == .embedding
        ? Int(scores.first!) : scores.indices.max { scores[$0] < scores[$1] }! - scores.startIndex
      guard predicted != truth, head.classNames.indices.contains(predicted) else { continue }
      let score = head.spec.kind == .softmax ? "\(scores[scores.startIndex + predicted])" : ""
      wrong.append((row, head.classNames[truth], head.classNames[predicted], score))
    case .sigmoid:
      let labels = head.sigmoidLabels(rows: [row])
      for j in 0..<width where labels[j] >= 0 {
        let threshold = j < thresholds.count ? thresholds[j] : 0.5
        let score = scores[scores.startIndex + j]
        let positive = labels[j] >= 0.5
        guard (score >= threshold) != positive else { continue }
        if head.isMultiLabel {
          let name = head.classNames[j]
          wrong.append((row, name + (positive ? ":yes" : ":no"), name + (positive ? ":no" : ":yes"), "\(score)"))
        } else {
          // A binary head's classes, negative first (its one output is the second class).
          let names = head.classNames
          wrong.append((row, names[positive ? 1 : 0], names[positive ? 0 : 1], "\(score)"))
        }
      }
    case .tanh:
      continue
    }
  }
  return wrong
}
