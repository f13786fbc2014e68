// The `.npy` header (numpy's format.py, versions 1.0, 2.0 and 3.0):
//
//   "\x93NUMPY" | u8 major | u8 minor | u16 (1.x) or u32 (2.x, 3.x) header length, little-endian
//   | header: a Python dict literal, e.g. {'descr': '|u1', 'fortran_order': False, 'shape': (6, 32, 32, 3), }
//   | the data, C order, from the end of the header on
//
// The file may be hostile, so the dict is not evaluated but parsed for exactly the three keys
// numpy writes (numpy itself refuses other keys), with bounded lengths and every size checked
// for overflow. Anything else is refused with a reason.

/// An element type of an array, from the header's `descr`.
public enum ArrayElement: Equatable, Sendable, CustomStringConvertible {
  case unsigned(bytes: Int)
  case signed(bytes: Int)
  case float(bytes: Int)

  public var bytes: Int {
    switch self {
    case .unsigned(let bytes), .signed(let bytes), .float(let bytes): return bytes
    }
  }

  /// numpy's name: uint8, int64, float32.
  public var description: String {
    switch self {
    case .unsigned(let bytes): return "uint\(bytes * 8)"
    case .signed(let bytes): return "int\(bytes * 8)"
    case .float(let bytes): return "float\(bytes * 8)"
    }
  }
}

/// A parsed `.npy` header: the element type, the shape, and where the data starts.
public struct NpyHeader: Equatable, Sendable {
  public var element: ArrayElement
  public var shape: [Int]
  /// Bytes from the start of the `.npy` data to its first element.
  public var dataOffset: Int
  /// The data's size in bytes: the shape's product times the element size (checked for overflow).
  public var dataBytes: Int

  /// numpy reads headers up to 10,000 bytes by default; this leaves room and bounds the work.
  public static let maximumHeaderBytes = 65_536
  /// Enough leading bytes to parse any acceptable header.
  public static let maximumPrefixBytes = 12 + maximumHeaderBytes

  /// Parses the header from the first bytes of a `.npy` stream (`prefix` may be shorter than
  /// `maximumPrefixBytes` when the stream is) and checks that `streamSize` bytes hold its data.
  public init(prefix: [UInt8], streamSize: Int, name: String) throws(ArrayError) {
    func refuse(_ problem: String) -> ArrayError { ArrayError("\(name): \(problem)") }
    let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    guard prefix.count >= 10, prefix.starts(with: magic) else {
      throw refuse("not a .npy array (it does not start with \\x93NUMPY)")
    }
    let major = prefix[6]
    let headerLength: Int
    let headerStart: Int
    switch major {
    case 1:
      headerLength = Int(prefix[8]) | Int(prefix[9]) << 8
      headerStart = 10
    case 2, 3:
      guard prefix.count >= 12 else { throw refuse("the .npy header is cut short") }
      headerLength = Int(prefix[8]) | Int(prefix[9]) << 8 | Int(prefix[10]) << 16 | Int(prefix[11]) << 24
      headerStart = 12
    default:
      throw refuse(".npy format version \(major).\(prefix[7]) is not supported (1.0, 2.0 and 3.0 are)")
    }
    guard headerLength <= NpyHeader.maximumHeaderBytes else {
      throw refuse("the .npy header claims \(headerLength) bytes, more than \(NpyHeader.maximumHeaderBytes)")
    }
    guard prefix.count >= headerStart + headerLength, streamSize >= headerStart + headerLength else {
      throw refuse("the .npy header is cut short (\(headerLength) bytes announced)")
    }
    let fields: NpyDictionary
    do {
      var parser = NpyDictionaryParser(Array(prefix[headerStart..<(headerStart + headerLength)]))
      fields = try parser.parse()
    } catch {
      throw refuse("unreadable .npy header: \(error.description)")
    }
    guard let element = NpyHeader.element(fields.descr) else {
      throw refuse(
        "element type '\(fields.descr)' is not supported (little-endian integers, float32 or float64; "
          + "images must be uint8)")
    }
    guard !fields.fortranOrder else {
      throw refuse("the array is stored in Fortran order; save np.ascontiguousarray(x) instead")
    }
    var count = 1
    for extent in fields.shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: extent)
      guard !overflow else { throw refuse("its shape \(fields.shape) is too large") }
      count = product
    }
    let (bytes, overflow) = count.multipliedReportingOverflow(by: element.bytes)
    guard !overflow, bytes <= streamSize - headerStart - headerLength else {
      throw refuse(
        "its header announces shape \(fields.shape) of \(element) (\(overflow ? "too many" : String(bytes)) bytes), "
          + "but only \(streamSize - headerStart - headerLength) bytes of data follow: the file is truncated")
    }
    self.element = element
    self.shape = fields.shape
    self.dataOffset = headerStart + headerLength
    self.dataBytes = bytes
  }

  /// The element type of a `descr` such as '|u1', '<i8', 'u1' or '<f4'; nil for anything else
  /// (big-endian, strings, objects, structured types, float16, complex).
  static func element(_ descr: String) -> ArrayElement? {
    var text = Substring(descr)
    if let order = text.first, "<|=>".contains(order) { text = text.dropFirst() }
    guard let kind = text.first, let bytes = Int(text.dropFirst()) else { return nil }
    // '>' (big-endian) is only harmless for single bytes; '=' is native, little-endian here.
    if descr.hasPrefix(">") && bytes != 1 { return nil }
    if descr.hasPrefix("|") && bytes != 1 { return nil }
    switch (kind, bytes) {
    case ("u", 1), ("u", 2), ("u", 4), ("u", 8): return .unsigned(bytes: bytes)
    case ("i", 1), ("i", 2), ("i", 4), ("i", 8): return .signed(bytes: bytes)
    case ("f", 4), ("f", 8): return .float(bytes: bytes)
    default: return nil
    }
  }
}

/// The three keys of a `.npy` header.
struct NpyDictionary {
  var descr: String
  var fortranOrder: Bool
  var shape: [Int]
}

/// A parser for the one dict literal numpy writes: string keys, and values that are a string,
/// True/False, or a tuple of non-negative integers (Python 2's `3L` accepted). Bounded by the
/// header's length; every failure is an `ArrayError`.
struct NpyDictionaryParser {
  private let bytes: [UInt8]
  private var position = 0

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  private enum Value {
    case text(String)
    case flag(Bool)
    case tuple([Int])
  }

  mutating func parse() throws(ArrayError) -> NpyDictionary {
    try expect("{")
    var values: [String: Value] = [:]
    while true {
      skipSpaces()
      if peek() == UInt8(ascii: "}") { break }
      guard case .text(let key) = try value() else { throw ArrayError("a key is not a string") }
      try expect(":")
      guard values.updateValue(try value(), forKey: key) == nil else { throw ArrayError("key '\(key)' repeats") }
      skipSpaces()
      if peek() == UInt8(ascii: ",") { position += 1 } else { break }
    }
    try expect("}")
    // What follows the dict is padding: spaces and a final newline.
    guard bytes[position...].allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D || $0 == 0 }) else {
      throw ArrayError("text follows the dict")
    }
    guard Set(values.keys) == ["descr", "fortran_order", "shape"] else {
      throw ArrayError(
        "keys \(values.keys.sorted()), expected exactly descr, fortran_order and shape")
    }
    guard case .text(let descr) = values["descr"] else {
      throw ArrayError("'descr' is not a simple type string (structured arrays are not images)")
    }
    guard case .flag(let fortran) = values["fortran_order"] else {
      throw ArrayError("'fortran_order' is not True/False")
    }
    guard case .tuple(let shape) = values["shape"] else { throw ArrayError("'shape' is not a tuple of integers") }
    return NpyDictionary(descr: descr, fortranOrder: fortran, shape: shape)
  }

  private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

  private mutating func skipSpaces() {
    while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
  }

  private mutating func expect(_ character: Unicode.Scalar) throws(ArrayError) {
    skipSpaces()
    guard peek() == UInt8(ascii: character) else {
      throw ArrayError("expected '\(character)' at byte \(position)")
    }
    position += 1
  }

  private mutating func value() throws(ArrayError) -> Value {
    skipSpaces()
    switch peek() {
    case UInt8(ascii: "'"), UInt8(ascii: "\""):
      let quote = bytes[position]
      position += 1
      let start = position
      // descr strings are short ASCII; no escapes are needed for anything acceptable.
      while let byte = peek(), byte != quote {
        guard byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") else {
          throw ArrayError("a string holds a byte that no acceptable header has (\(byte))")
        }
        position += 1
      }
      guard peek() == quote else { throw ArrayError("a string is not closed") }
      position += 1
      return .text(String(decoding: bytes[start..<(position - 1)], as: UTF8.self))
    case UInt8(ascii: "T"), UInt8(ascii: "F"):
      for (word, flag) in [("True", true), ("False", false)] where bytes[position...].starts(with: word.utf8) {
        position += word.utf8.count
        return .flag(flag)
      }
      throw ArrayError("expected True or False at byte \(position)")
    case UInt8(ascii: "("):
      position += 1
      var items: [Int] = []
      while true {
        skipSpaces()
        if peek() == UInt8(ascii: ")") { break }
        items.append(try integer())
        skipSpaces()
        if peek() == UInt8(ascii: ",") { position += 1 } else { break }
      }
      try expect(")")
      return .tuple(items)
    default:
      throw ArrayError("unexpected \(peek().map { "byte \($0)" } ?? "end") at byte \(position)")
    }
  }

  /// A non-negative decimal integer of at most 18 digits (so it cannot overflow), with an
  /// optional Python 2 `L`.
  private mutating func integer() throws(ArrayError) -> Int {
    var value = 0
    var digits = 0
    while let byte = peek(), byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
      guard digits < 18 else { throw ArrayError("a shape entry has too many digits") }
      value = value * 10 + Int(byte - UInt8(ascii: "0"))
      digits += 1
      position += 1
    }
    guard digits > 0 else { throw ArrayError("a shape entry is not a non-negative integer (byte \(position))") }
    if peek() == UInt8(ascii: "L") { position += 1 }
    return value
  }
}
