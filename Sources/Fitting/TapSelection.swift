// `fit-heads --taps NAME[,NAME]`: train on some of the stored taps. The feature file keeps each
// tap's features side by side, `tap_widths` wide, in the order of `taps` (each L2-normalised on
// its own), so a subset is a choice of column ranges; the heads file then records only the
// chosen taps and widths, and `predict` rebuilds exactly those features.

import FeatureStore

/// `file` with only the named taps' feature columns, in the order named, and its attributes'
/// `taps` and `tapWidths` narrowed to match. Throws `FitError.usage` for an unknown or repeated
/// tap, naming the stored ones.
func selectTaps(_ names: [String], of file: FeatureFile) throws -> FeatureFile {
  let stored = file.attributes.taps
  let widths = file.attributes.tapWidths
  guard !names.isEmpty else { throw FitError.usage("--taps: give tap names, e.g. --taps \(stored.first ?? "NAME")") }
  guard widths.count == stored.count, widths.reduce(0, +) == file.dimension else {
    throw FitError.usage(
      "--taps: the feature file's taps \(stored) and widths \(widths) do not add up to its width \(file.dimension)")
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
  let d = file.dimension
  let width = chosen.map { widths[$0] }.reduce(0, +)
  let n = file.rowCount
  // features (N, D) -> (N, width): each chosen tap's column range, in the order named.
  var features = [Float](repeating: 0, count: n * width)
  for row in 0..<n {
    var to = row * width
    for index in chosen {
      let from = row * d + starts[index]
      features[to..<(to + widths[index])] = file.features[from..<(from + widths[index])]
      to += widths[index]
    }
  }
  var narrowed = file
  narrowed.features = features
  narrowed.dimension = width
  narrowed.attributes.taps = chosen.map { stored[$0] }
  narrowed.attributes.tapWidths = chosen.map { widths[$0] }
  return narrowed
}
