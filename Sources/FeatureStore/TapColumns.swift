// Where each tap's features sit in a row: the one rule `fit-heads --taps`, a head's own `taps`
// and the heads file all use. Taps sit side by side, `tapWidths` wide, in the order of `taps`.

/// Why a list of tap names cannot be found in a row's layout.
public enum TapLookupError: Error, Equatable, Sendable {
  /// No names were given.
  case empty
  /// The attributes' taps and widths do not add up to the row width.
  case inconsistent
  /// This name is not one of the taps.
  case unknown(String)
  /// This name is given twice.
  case repeated(String)
}

extension FeatureFileAttributes {
  /// The feature columns of each named tap, in the order named, for rows `dimension` wide.
  public func columns(ofTaps names: [String], dimension: Int) throws(TapLookupError) -> [Range<Int>] {
    guard !names.isEmpty else { throw .empty }
    guard tapWidths.count == taps.count, tapWidths.allSatisfy({ $0 >= 0 }), tapWidths.reduce(0, +) == dimension else {
      throw .inconsistent
    }
    var chosen: [Int] = []
    for name in names {
      guard let index = taps.firstIndex(of: name) else { throw .unknown(name) }
      guard !chosen.contains(index) else { throw .repeated(name) }
      chosen.append(index)
    }
    return chosen.map { index in
      let start = tapWidths[..<index].reduce(0, +)
      return start..<(start + tapWidths[index])
    }
  }
}
