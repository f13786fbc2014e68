// `fit-heads --taps NAME[,NAME]`: train on some of the stored taps. The feature file keeps each
// tap's features side by side, `tap_widths` wide, in the order of `taps` (each L2-normalised on
// its own), so a subset is a choice of column ranges; the heads file then records only the
// chosen taps and widths, and `predict` rebuilds exactly those features. A head may read only
// some of those taps (its own `taps`, HeadSpec.inputColumns); when every head names its own,
// the model reads just the taps they name.

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
  let columns = try lookUpTaps(names, attributes: attributes, dimension: dimension, option: "--taps")
  var narrowed = attributes
  narrowed.taps = names
  narrowed.tapWidths = columns.map(\.count)
  return (columns, narrowed)
}

/// `attributes.columns(ofTaps:dimension:)`, its failure as a usage error that starts with
/// `option` (`--taps`, or a head's name) and names the stored taps.
func lookUpTaps(_ names: [String], attributes: FeatureFileAttributes, dimension: Int, option: String) throws
  -> [Range<Int>]
{
  let stored = attributes.taps
  do {
    return try attributes.columns(ofTaps: names, dimension: dimension)
  } catch .empty {
    throw FitError.usage("\(option): give tap names, e.g. \(stored.first ?? "NAME")")
  } catch .inconsistent {
    throw FitError.usage(
      "\(option): the feature file's taps \(stored) and widths \(attributes.tapWidths) do not add up to its "
        + "width \(dimension)")
  } catch .unknown(let name) {
    throw FitError.usage("\(option): no tap '\(name)' in the feature file (it has: \(stored.joined(separator: ", ")))")
  } catch .repeated(let name) {
    throw FitError.usage("\(option): tap '\(name)' is named twice")
  }
}

/// The taps the model reads when every head names its own: all they name, in stored order; nil
/// when some head reads every tap.
func tapsOfEveryHead(_ requests: [HeadRequest], stored: [String]) -> [String]? {
  let named = requests.map { $0.taps ?? [] }
  guard !named.contains(where: \.isEmpty) else { return nil }
  let union = Set(named.joined())
  return stored.filter { union.contains($0) }
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
