// `fit-heads --taps NAME[,NAME]`: train on some of the stored taps. The feature file keeps each
// tap's features side by side, `tap_widths` wide, in the order of `taps` (each L2-normalised on
// its own), so a subset is a choice of column ranges; the heads file then records only the
// chosen taps and widths, and `predict` rebuilds exactly those features.

import FeatureStore

/// `file` with only the named taps' feature columns, in the order named, and its attributes'
/// `taps` and `tapWidths` narrowed to match. Throws `FitError.usage` for an unknown or repeated
/// tap, naming the stored ones.
func selectTaps(_ names: [String], of file: FeatureFile) throws -> FeatureFile {
  let chosen = try tapColumns(names, attributes: file.attributes, dimension: file.dimension)
  var narrowed = file
  narrowed.features = gatherColumns(chosen.columns, of: file.features, width: file.dimension)
  narrowed.dimension = chosen.columns.reduce(0) { $0 + $1.count }
  narrowed.attributes = chosen.attributes
  return narrowed
}

/// The feature column range of each named tap, in the order named, and `attributes` with `taps`
/// and `tapWidths` narrowed to them. Throws `FitError.usage` for an unknown or repeated tap.
func tapColumns(_ names: [String], attributes: FeatureFileAttributes, dimension: Int) throws -> (
  columns: [Range<Int>], attributes: FeatureFileAttributes
) {
  let stored = attributes.taps
  let widths = attributes.tapWidths
  guard !names.isEmpty else { throw FitError.usage("--taps: give tap names, e.g. --taps \(stored.first ?? "NAME")") }
  guard widths.count == stored.count, widths.reduce(0, +) == dimension else {
    throw FitError.usage(
      "--taps: the feature file's taps \(stored) and widths \(widths) do not add up to its width \(dimension)")
  }
  var starts: [Int] = []
  var offset = 0
  for width in widths {
    starts.append(offset)
    offset += width
  }
  var chosen: [Int] = []
  for name in names {
    guard let index = stored.firstIndex(of: name) else {
      throw FitError.usage(
        "--taps: no tap '\(name)' in the feature file (it has: \(stored.joined(separator: ", ")))")
    }
    guard !chosen.contains(index) else { throw FitError.usage("--taps: tap '\(name)' is named twice") }
    chosen.append(index)
  }
  var narrowed = attributes
  narrowed.taps = chosen.map { stored[$0] }
  narrowed.tapWidths = chosen.map { widths[$0] }
  return (chosen.map { starts[$0]..<(starts[$0] + widths[$0]) }, narrowed)
}

/// features (N, width) -> (N, sum of the ranges' counts): each row's `columns`, side by side.
func gatherColumns(_ columns: [Range<Int>], of features: [Float], width: Int) -> [Float] {
  let narrow = columns.reduce(0) { $0 + $1.count }
  let n = width == 0 ? 0 : features.count / width
  var gathered = [Float]()
  gathered.reserveCapacity(n * narrow)
  for row in 0..<n {
    for range in columns {
      gathered.append(contentsOf: features[(row * width + range.lowerBound)..<(row * width + range.upperBound)])
    }
  }
  return gathered
}
