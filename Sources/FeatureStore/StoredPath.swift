// A file's path as the feature file stores it. A POSIX file name is any bytes but '/' and NUL,
// while /paths holds UTF-8 text, so a name that is not valid UTF-8 (`caf\xe9.jpg` from an old
// Latin-1 archive) needs an escape, and the escape must be reversible so that predict, finetune,
// the fit-heads report and users can find the file again:
//
//   * every byte that is not part of valid UTF-8 is written `\xHH` (two upper-case hex digits);
//   * a literal backslash is written `\\`;
//   * everything else is kept as it is.
//
// So a valid UTF-8 path without a backslash is stored unchanged, and the stored text is always
// valid UTF-8. Docs/file-format.md (/paths) is the reference, with the same in Python.

/// The stored form of a path given as the file system's raw bytes: valid UTF-8 kept, `\` as
/// `\\`, every other byte as `\xHH`. `unescapePath` is its inverse.
public func escapePath(_ bytes: some Collection<UInt8>) -> String {
  let bytes = Array(bytes)
  var stored: [UInt8] = []
  stored.reserveCapacity(bytes.count)
  var iterator = bytes.makeIterator()
  var parser = Unicode.UTF8.ForwardParser()
  // Swift's own UTF-8 parser decides what is valid, so the stored bytes are exactly the ones a
  // Swift `String` keeps (no replacement character can sneak in). It may read ahead, but the
  // scalars and errors it returns cover the input in order, so `position` follows them.
  var position = 0
  while true {
    switch parser.parseScalar(from: &iterator) {
    case .valid(let scalar):
      stored += scalar.count == 1 && scalar.first == backslash ? [backslash, backslash] : Array(scalar)
      position += scalar.count
    case .error(let length):
      for byte in bytes[position..<(position + length)] { stored += hexEscape(byte) }
      position += length
    case .emptyInput:
      return String(decoding: stored, as: UTF8.self)
    }
  }
}

/// The raw bytes of a stored path: `\\` is a backslash, `\xHH` (either case of hex digit) the
/// byte HH; any other backslash is kept as it is, so a path typed by hand with a stray `\`
/// (a manifest written on Windows) still means that character.
public func unescapePath(_ stored: String) -> [UInt8] {
  let text = Array(stored.utf8)
  var bytes: [UInt8] = []
  bytes.reserveCapacity(text.count)
  var i = 0
  while i < text.count {
    if text[i] == backslash, i + 1 < text.count {
      if text[i + 1] == backslash {
        bytes.append(backslash)
        i += 2
        continue
      }
      if text[i + 1] == UInt8(ascii: "x"), i + 3 < text.count, let high = hexValue(text[i + 2]),
        let low = hexValue(text[i + 3])
      {
        bytes.append(high << 4 | low)
        i += 4
        continue
      }
    }
    bytes.append(text[i])
    i += 1
  }
  return bytes
}

/// The canonical stored form of a path written by a person or another program (a manifest's
/// path column): `escapePath(unescapePath(path))`, so `caf\xe9.jpg`, `caf\xE9.jpg` and the
/// Windows-style `a\b.jpg` (= `a\\b.jpg`) each name one file and match the /paths row of it.
public func canonicalStoredPath(_ path: String) -> String {
  escapePath(unescapePath(path))
}

/// The raw path of the file the stored path `stored` names below `root` (a folder given on the
/// command line, used as it is): root, `/`, the stored path unescaped; the stored path alone when
/// `root` is empty.
public func filePathBytes(root: String, stored: String) -> [UInt8] {
  let relative = unescapePath(stored)
  if root.isEmpty { return relative }
  return Array(root.utf8) + [UInt8(ascii: "/")] + relative
}

private let backslash = UInt8(ascii: "\\")

private func hexEscape(_ byte: UInt8) -> [UInt8] {
  let digits = Array("0123456789ABCDEF".utf8)
  return [backslash, UInt8(ascii: "x"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
}

private func hexValue(_ digit: UInt8) -> UInt8? {
  switch digit {
  case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
  case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
  case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
  default: nil
  }
}
