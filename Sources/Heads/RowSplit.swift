// The rules fit-heads and finetune share, in one place: which rows train and which validate
// (so that a fine-tuning run validates on exactly the rows its heads were validated on), and
// when early stopping ends training. The split:
//   1. a `split` column: train / val or validation / test; rows in no split are not used;
//   2. else a 0/1 `in_train` column: 1 trains, 0 validates, missing is not used;
//   3. else a seeded random share `valSplit` of the rows, stratified by the label column of the
//      first softmax or sigmoid head (`stratificationColumn`), so every class keeps its share.

import FeatureStore
import Support

/// Row indices of each part, ascending.
public struct RowSplit: Equatable, Sendable {
  public var train: [Int]
  public var val: [Int]
  public var test: [Int]

  public init(train: [Int] = [], val: [Int] = [], test: [Int] = []) {
    self.train = train
    self.val = val
    self.test = test
  }
}

/// Splits `rows` (ascending indices into the label columns) by the rule above. `strata` holds a
/// class index per label row (-1 for missing), or is nil for an unstratified split.
public func splitRows(
  _ rows: [Int], labels: [LabelColumn], valSplit: Double, seed: UInt64, strata: [Int32]?
) -> RowSplit {
  var split = RowSplit()
  if case .categorical(_, let classes, let indices)? = labels.first(where: { $0.name == "split" }) {
    for row in rows where indices[row] >= 0 {
      switch classes[Int(indices[row])] {
      case "train": split.train.append(row)
      case "val", "validation": split.val.append(row)
      case "test": split.test.append(row)
      default: continue  // a row in no split is not used
      }
    }
    return split
  }
  if case .numeric(_, let values)? = labels.first(where: { $0.name == "in_train" }) {
    split.train = rows.filter { values[$0] == 1 }
    split.val = rows.filter { values[$0] == 0 }
    return split
  }
  // Group rows by stratum (one group when there is none), shuffle each group with the seed, and
  // send the first round(share x size) of each to validation.
  var groups: [Int32: [Int]] = [:]
  for row in rows { groups[strata?[row] ?? 0, default: []].append(row) }
  var generator = SplitMix64(seed: seed, stream: 0xC0FFEE)
  for key in groups.keys.sorted() {
    var members = groups[key]!
    fisherYatesShuffle(&members, using: &generator)
    let valCount = Int((Double(members.count) * valSplit).rounded())
    split.val += members[..<valCount]
    split.train += members[valCount...]
  }
  split.train.sort()
  split.val.sort()
  return split
}

/// The class indices a random split is stratified by: the label column of the first head (in
/// the order given) that is a softmax or sigmoid head and whose column holds classes.
public func stratificationColumn(heads: [(kind: String, column: String)], labels: [LabelColumn]) -> [Int32]? {
  for head in heads where head.kind == "softmax" || head.kind == "sigmoid" {
    if case .categorical(_, _, let indices)? = labels.first(where: { $0.name == head.column }) { return indices }
  }
  return nil
}

/// Keras' `EarlyStopping(patience=...)` rule, the one fit-heads and finetune both use: training
/// stops after the epoch that makes `patience` epochs in a row without a better monitored loss
/// (patience 0 stops at the first epoch without one). The best epoch's weights are kept.
public func shouldStopEarly(epochsSinceBest: Int, patience: Int) -> Bool {
  epochsSinceBest >= max(1, patience)
}

/// What a heads file records of the rows that validated: their count and the SHA-256 of their
/// paths, sorted and joined by newlines ("36 rows, sha256 9f2c..."); "0 rows" for none.
public func validationRowsRecord(paths: [String]) -> String {
  guard !paths.isEmpty else { return "0 rows" }
  var hash = SHA256()
  Array(paths.sorted().joined(separator: "\n").utf8).withUnsafeBytes { hash.update($0) }
  return "\(paths.count) rows, sha256 \(hash.finalizeHex())"
}
