// Label columns from text cells, the one rule `extract` (its CSV manifest and folder names) and
// `fit-heads --labels` share: a column whose non-empty cells all parse as numbers is numeric,
// any other is categorical with its classes sorted; an empty cell is a missing label.

import Foundation

extension LabelColumn {
  /// A categorical column from one optional class name per row (nil = missing, index -1).
  /// Classes are sorted, as Keras' flow_from_directory sorts class folders.
  public static func categorical(name: String, values: [String?]) -> LabelColumn {
    let classes = Set(values.compactMap { $0 }).sorted()
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
    return .categorical(name: name, classes: classes, indices: values.map { $0.flatMap { index[$0] } ?? -1 })
  }

  /// A column from one text cell per row, trimmed of spaces: numeric (float32, NaN where empty)
  /// when every non-empty cell parses as a number and at least one does, else categorical.
  public static func inferred(name: String, cells: [String]) -> LabelColumn {
    let cells = cells.map { $0.trimmingCharacters(in: .whitespaces) }
    let filled = cells.filter { !$0.isEmpty }
    if !filled.isEmpty, filled.allSatisfy({ Float($0) != nil }) {
      return .numeric(name: name, values: cells.map { $0.isEmpty ? .nan : Float($0)! })
    }
    return categorical(name: name, values: cells.map { $0.isEmpty ? nil : $0 })
  }
}

/// A path as a CSV manifest may write it, in the form the feature file stores (relative to the
/// image root): spaces around it and leading `./` removed, escapes made canonical
/// (`canonicalStoredPath`: `caf\xe9.jpg` is the /paths row `caf\xE9.jpg`).
public func normalisedRelativePath(_ path: String) -> String {
  var path = path.trimmingCharacters(in: .whitespaces)
  while path.hasPrefix("./") { path.removeFirst(2) }
  return canonicalStoredPath(path)
}
