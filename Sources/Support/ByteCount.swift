// Byte counts as users write them on the command line (--max-memory 512M).

/// Parses a byte count: a whole number with an optional K, M, G or T suffix (powers of 1024,
/// case-insensitive, an optional trailing B or iB), e.g. 512M, 4G, 1500000.
public func parseByteCount(_ text: String) -> Int? {
  var digits = text.trimmingCharacters(in: .whitespaces).uppercased()
  for suffix in ["IB", "B"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
    digits.removeLast(suffix.count)
    break
  }
  var factor = 1
  if let unit = digits.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4][String(unit)] {
    factor = 1 << (10 * power)
    digits.removeLast()
  }
  guard let value = Int(digits), value > 0 else { return nil }
  let (bytes, overflow) = value.multipliedReportingOverflow(by: factor)
  return overflow ? nil : bytes
}
