// Sigmoid heads: binary (a two-class column, as before) or multi-label (a column whose cells are
// label sets). A label set is written as one text cell, its labels joined by the head's
// separator: `warm;high_contrast` with the default `;`, or `black_jeans` with `separator: "_"`
// (folder names as in the Keras multi-label tutorial, read by extract as one `class` column).
// An empty cell is a missing label set (the row is skipped); `-` is the empty set (the row is a
// negative for every label). The sorted union of all labels is the head's vocabulary, one
// sigmoid output each.

import FeatureStore
import Foundation
import Heads

/// The cell that stands for "this row has none of the labels".
let emptyLabelSet = "-"

/// The labels of each cell text (a class of a categorical column): split on `separator`,
/// trimmed, empty parts and `-` dropped (`-` alone is the empty set).
public func labelSets(_ cells: [String], separator: String) -> [[String]] {
  cells.map { cell -> [String] in
    cell == emptyLabelSet
      ? []
      : cell.components(separatedBy: separator).map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty && $0 != emptyLabelSet }
  }
}

/// A label that is not in a head's vocabulary.
public struct UnknownLabel: Error, Sendable {
  public var label: String
}

/// The targets of a sigmoid head over a categorical column, (rows, vocabulary.count): 1 where the
/// row's label set (`sets[class index]`) holds the label, 0 where it does not, the whole row -1
/// where the row has no label. The one mapping from label sets to targets: fit-heads (with the
/// vocabulary it found) and finetune (with the one the heads file stores) both use it.
public func sigmoidTargets(sets: [[String]], indices: [Int32], vocabulary: [String]) throws(UnknownLabel) -> [Float] {
  let position = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, $0) })
  var members: [[Int]] = []
  for set in sets {
    var indices: [Int] = []
    for label in set {
      guard let index = position[label] else { throw UnknownLabel(label: label) }
      indices.append(index)
    }
    members.append(indices)
  }
  let width = vocabulary.count
  var targets = [Float](repeating: 0, count: indices.count * width)
  for (row, index) in indices.enumerated() {
    if index < 0 {
      for j in 0..<width { targets[row * width + j] = -1 }
    } else {
      for j in members[Int(index)] { targets[row * width + j] = 1 }
    }
  }
  return targets
}

/// Resolves a sigmoid head on a categorical column. The column is binary (one output, positive
/// = the second class in sorted order) when it has exactly two classes, neither is `-` nor holds
/// the separator, and the request names no separator; otherwise it is multi-label.
func resolveSigmoid(
  _ request: HeadRequest, classes: [String], indices: [Int32], trainRows: [Int], hidden: [Int], weight: Float
) throws -> ResolvedHead {
  let separator = request.separator ?? ";"
  guard !separator.isEmpty else { throw FitError.usage("head '\(request.name)': separator must not be empty") }
  let multi =
    request.separator != nil || classes.count != 2
    || classes.contains { $0 == emptyLabelSet || $0.contains(separator) }
  if !multi {
    var counts = [0, 0]
    for row in trainRows where indices[row] >= 0 { counts[Int(indices[row])] += 1 }
    if let empty = counts.firstIndex(of: 0) {
      throw FitError.usage(
        "head '\(request.name)': class '\(classes[empty])' of '\(request.column)' has no training rows")
    }
    return ResolvedHead(
      spec: HeadSpec(name: request.name, kind: .sigmoid, outputs: 1, hidden: hidden, lossWeight: weight),
      column: request.column, classNames: classes, range: nil, classLabels: indices, valueLabels: [])
  }
  if request.classWeights != nil {
    throw FitError.usage(
      "head '\(request.name)': class_weights are not supported on a multi-label sigmoid head (its loss weighs "
        + "rows, not labels); remove class_weights or train one binary head per label")
  }
  let sets = labelSets(classes, separator: separator)
  let vocabulary = Array(Set(sets.joined())).sorted()
  guard !vocabulary.isEmpty else {
    throw FitError.usage("head '\(request.name)': column '\(request.column)' has no labels (every set is empty)")
  }
  let width = vocabulary.count
  // (N, labels): 0/1 per label, every cell -1 where the row has no label set.
  let targets = try! sigmoidTargets(sets: sets, indices: indices, vocabulary: vocabulary)  // every label is in it
  var positives = [Int](repeating: 0, count: width)
  for row in trainRows where indices[row] >= 0 {
    for j in 0..<width where targets[row * width + j] == 1 { positives[j] += 1 }
  }
  if let empty = positives.firstIndex(of: 0) {
    throw FitError.usage(
      "head '\(request.name)': label '\(vocabulary[empty])' of '\(request.column)' has no training rows")
  }
  var head = ResolvedHead(
    spec: HeadSpec(name: request.name, kind: .sigmoid, outputs: width, hidden: hidden, lossWeight: weight),
    column: request.column, classNames: vocabulary, range: nil, classLabels: indices, valueLabels: [])
  head.multiLabels = targets
  head.separator = separator
  return head
}

extension ResolvedHead {
  /// Whether this is a multi-label sigmoid head (targets in `multiLabels`).
  var isMultiLabel: Bool { spec.kind == .sigmoid && !multiLabels.isEmpty }

  /// The name of each output, as the heads file stores them: a binary sigmoid head's one output
  /// is its positive class (the second in sorted order); other heads name every class or label.
  var outputNames: [String] {
    spec.kind == .sigmoid && !isMultiLabel ? Array(classNames.suffix(1)) : classNames
  }

  /// Sigmoid targets of `rows`, (rows, outputs): 0/1, -1 where missing.
  func sigmoidLabels(rows: [Int]) -> [Float] {
    guard isMultiLabel else { return rows.map { classLabels[$0] < 0 ? -1 : Float(classLabels[$0]) } }
    let width = spec.outputs
    return rows.flatMap { multiLabels[($0 * width)..<(($0 + 1) * width)] }
  }
}
