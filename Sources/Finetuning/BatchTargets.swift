// Targets of one training batch: fine-tuning computes features batch by batch (the rows of a
// shuffled epoch), so each head's targets are gathered for exactly those rows.
import Heads

extension HeadTargets {
  /// The targets of `rows` (indices into this head's N rows), in that order: values
  /// (rows.count, width) and row weights (rows.count). `width` is the head's
  /// `HeadSpec.targetWidth`.
  public func gathering(rows: [Int], width: Int) -> HeadTargets {
    var values: [Float] = []
    values.reserveCapacity(rows.count * width)
    for row in rows { values += self.values[(row * width)..<((row + 1) * width)] }
    return HeadTargets(values: values, rowWeights: rows.map { rowWeights[$0] })
  }
}
