// `fit-heads --labels FILE.csv`: label columns joined onto the feature file's rows by path, so a
// user fixes or adds labels without extracting again. The CSV is read as `extract --labels`
// reads its manifest (FeatureStore's CSVTable and LabelColumn.inferred): first column the path
// relative to the image root, then one column per label.

import FeatureStore

/// What joining a labels CSV did, for the log.
struct LabelsJoinSummary: Equatable {
  /// Columns the CSV added, and columns it replaced (same name as a feature-file column).
  var added: [String]
  var replaced: [String]
  /// Feature-file rows the CSV does not list: their labels in the CSV's columns are missing.
  var rowsWithoutLabels: Int
  /// CSV paths that are not rows of the feature file (ignored), and the first of them.
  var unknownPaths: Int
  var firstUnknownPath: String?
}

/// `labels` with the CSV's columns added or replacing same-named ones, aligned with `paths`
/// (the feature file's rows) and sorted by name as the feature file sorts them. A CSV column
/// is typed from the cells that join (numbers vs classes; empty = missing), as extract types
/// its manifest from the images it lists. Throws `FitError.usage` for a file that cannot be
/// read, a path listed twice, or a column named twice.
func joinLabels(
  _ labels: [LabelColumn], paths: [String], csvPath: String
) throws -> (labels: [LabelColumn], summary: LabelsJoinSummary) {
  let table: CSVTable
  do {
    table = try CSVTable(contentsOf: csvPath)
  } catch let error as CSVError {
    throw FitError.usage("--labels \(csvPath): \(error.problem)")
  }
  guard table.header.count >= 2 else {
    throw FitError.usage("--labels \(csvPath): expected a path column and at least one label column")
  }
  let columns = Array(table.header.dropFirst())
  if let twice = columns.first(where: { name in columns.filter { $0 == name }.count > 1 }) {
    throw FitError.usage("--labels \(csvPath): column '\(twice)' appears twice in the header")
  }
  if let blank = columns.firstIndex(where: \.isEmpty) {
    throw FitError.usage("--labels \(csvPath): column \(blank + 2) has no name in the header")
  }
  let rowOfPath = Dictionary(paths.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
  var csvRowOfRow = [Int?](repeating: nil, count: paths.count)
  var seen = Set<String>()
  var unknown: [String] = []
  for (number, record) in table.rows.enumerated() {
    let path = normalisedRelativePath(record[0])
    guard !path.isEmpty else { throw FitError.usage("--labels \(csvPath): row \(number + 2) has no path") }
    guard seen.insert(path).inserted else {
      throw FitError.usage("--labels \(csvPath): path '\(path)' is listed twice")
    }
    if let row = rowOfPath[path] { csvRowOfRow[row] = number } else { unknown.append(path) }
  }
  var joined = Dictionary(labels.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
  var summary = LabelsJoinSummary(
    added: [], replaced: [], rowsWithoutLabels: csvRowOfRow.filter { $0 == nil }.count,
    unknownPaths: unknown.count, firstUnknownPath: unknown.first)
  for (c, name) in columns.enumerated() {
    let cells = csvRowOfRow.map { $0.map { table.rows[$0][c + 1] } ?? "" }
    if joined[name] == nil { summary.added.append(name) } else { summary.replaced.append(name) }
    joined[name] = .inferred(name: name, cells: cells)
  }
  return (joined.keys.sorted().map { joined[$0]! }, summary)
}

extension LabelsJoinSummary {
  /// One log line per fact worth a look: what changed, rows left without labels, CSV paths
  /// that match no row (a warning: often a different image root).
  func logLines(csvPath: String) -> [String] {
    var lines: [String] = []
    var changed: [String] = []
    if !added.isEmpty { changed.append("added " + added.joined(separator: ", ")) }
    if !replaced.isEmpty { changed.append("replaced " + replaced.joined(separator: ", ")) }
    lines.append("labels \(csvPath): " + changed.joined(separator: "; "))
    if rowsWithoutLabels > 0 {
      lines.append(
        "labels \(csvPath): \(rowsWithoutLabels) row(s) of the feature file are not in the CSV; "
          + "their labels in its columns are missing")
    }
    if let first = firstUnknownPath {
      lines.append(
        "warning: --labels \(csvPath): \(unknownPaths) path(s) are not rows of the feature file "
          + "(ignored), e.g. '\(first)'; paths must be relative to the image root extract was given")
    }
    return lines
  }
}
