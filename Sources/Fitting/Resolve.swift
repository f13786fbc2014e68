// Checking each requested head against the feature file's label columns, and splitting rows.

import FeatureStore
import Heads

/// Resolves one head: the kind must fit the column, and every class must have training rows.
func resolve(_ request: HeadRequest, labels: [LabelColumn], trainRows: [Int]) throws -> ResolvedHead {
  guard let column = labels.first(where: { $0.name == request.column }) else {
    let names = labels.map(\.name).joined(separator: ", ")
    throw FitError.usage(
      "head '\(request.name)': no label column '\(request.column)' in the feature file (it has: \(names))")
  }
  guard let kind = HeadKind(rawValue: request.kind) else {
    throw FitError.usage(
      "head '\(request.name)': unknown kind '\(request.kind)' (expected "
        + HeadKind.allCases.map(\.rawValue).joined(separator: ", ") + ")")
  }
  if request.separator != nil && kind != .sigmoid {
    throw FitError.usage("head '\(request.name)': separator applies to sigmoid heads only")
  }
  let hidden = request.hidden ?? []
  let weight = request.lossWeight ?? 1
  switch (kind, column) {
  case (.tanh, .numeric(_, let values)):
    let trainValues = trainRows.map { values[$0] }.filter { !$0.isNaN }
    guard let low = trainValues.min(), let high = trainValues.max() else {
      throw FitError.usage("head '\(request.name)': column '\(request.column)' has no training labels")
    }
    let range = request.range.map { ($0[0], $0[1]) } ?? (Double(low), Double(high))
    guard range.1 > range.0 else {
      throw FitError.usage("head '\(request.name)': the label range of '\(request.column)' is empty (\(low)..\(high))")
    }
    return ResolvedHead(
      spec: HeadSpec(name: request.name, kind: .tanh, outputs: 1, hidden: hidden, lossWeight: weight),
      column: request.column, classNames: [], range: (range.0, range.1), classLabels: [], valueLabels: values)
  case (.sigmoid, .categorical(_, let classes, let indices)):
    return try resolveSigmoid(
      request, classes: classes, indices: indices, trainRows: trainRows, hidden: hidden, weight: weight)
  case (.softmax, .categorical(_, let classes, let indices)):
    var counts = [Int](repeating: 0, count: classes.count)
    for row in trainRows where indices[row] >= 0 { counts[Int(indices[row])] += 1 }
    if let empty = counts.firstIndex(of: 0) {
      throw FitError.usage(
        "head '\(request.name)': class '\(classes[empty])' of '\(request.column)' has no training rows")
    }
    return ResolvedHead(
      spec: HeadSpec(name: request.name, kind: .softmax, outputs: classes.count, hidden: hidden, lossWeight: weight),
      column: request.column, classNames: classes, range: nil, classLabels: indices, valueLabels: [])
  case (.embedding, .categorical(_, let classes, let indices)):
    // Column classes are placed on the wheel by name (exact, else ignoring case and spaces).
    let wheel = request.wheel ?? HeadSpec.defaultWheel
    func key(_ name: String) -> String { name.lowercased().filter { $0 != " " && $0 != "_" } }
    var position: [Int32] = []
    for name in classes {
      guard let index = wheel.firstIndex(of: name) ?? wheel.firstIndex(where: { key($0) == key(name) }) else {
        throw FitError.usage(
          "head '\(request.name)': class '\(name)' of '\(request.column)' is not on the wheel ("
            + wheel.joined(separator: ", ") + "); give the wheel order with \"wheel\" in the heads file")
      }
      position.append(Int32(index))
    }
    let dimensions = request.dimensions ?? 10
    guard dimensions >= 2, wheel.count >= 2 else {
      throw FitError.usage("head '\(request.name)': an embedding needs at least 2 dimensions and 2 wheel classes")
    }
    return ResolvedHead(
      spec: .embedding(
        name: request.name, dimensions: dimensions, wheelClasses: wheel, hidden: hidden, lossWeight: weight),
      column: request.column, classNames: wheel, range: nil,
      classLabels: indices.map { $0 >= 0 ? position[Int($0)] : -1 }, valueLabels: [])
  case (.tanh, .categorical):
    throw FitError.usage(
      "head '\(request.name)': a tanh head needs numbers; column '\(request.column)' holds text classes")
  case (_, .numeric):
    throw FitError.usage(
      "head '\(request.name)': a \(kind.rawValue) head needs classes; column '\(request.column)' holds numbers")
  }
}

/// Row indices of each split.
struct Split {
  var train: [Int]
  var val: [Int]
  var test: [Int]
}

/// A `split` column (train / val or validation / test), a 0/1 `in_train` column, or a seeded
/// random `valSplit` share of the rows for validation — stratified by `strata` (the class labels
/// of the first classification head, -1 for missing) so every class keeps its share.
func splitRows(file: FeatureFile, valSplit: Double, seed: UInt64, strata: [Int32]?) throws -> Split {
  let n = file.rowCount
  if case .categorical(_, let classes, let indices)? = file.labels.first(where: { $0.name == "split" }) {
    var split = Split(train: [], val: [], test: [])
    for row in 0..<n {
      let name = indices[row] >= 0 ? classes[Int(indices[row])] : ""
      switch name {
      case "train": split.train.append(row)
      case "val", "validation": split.val.append(row)
      case "test": split.test.append(row)
      default: continue  // a row in no split is not used
      }
    }
    return split
  }
  if case .numeric(_, let values)? = file.labels.first(where: { $0.name == "in_train" }) {
    return Split(
      train: (0..<n).filter { values[$0] == 1 }, val: (0..<n).filter { values[$0] == 0 }, test: [])
  }
  // Group rows by stratum (one group when there is none), shuffle each group with the seed, and
  // send the first round(share x size) of each to validation.
  var groups: [Int32: [Int]] = [:]
  for row in 0..<n { groups[strata?[row] ?? 0, default: []].append(row) }
  var generator = SplitMix64(seed: seed, stream: 0xC0FFEE)
  var split = Split(train: [], val: [], test: [])
  for key in groups.keys.sorted() {
    var rows = groups[key]!
    fisherYatesShuffle(&rows, using: &generator)
    let valCount = Int((Double(rows.count) * valSplit).rounded())
    split.val += rows[..<valCount]
    split.train += rows[valCount...]
  }
  split.train.sort()
  split.val.sort()
  return split
}
