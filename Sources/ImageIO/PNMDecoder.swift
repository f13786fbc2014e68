// PNM decoding in Swift -- PBM (P1 ASCII, P4 binary), PGM (P2, P5), PPM (P3, P6) -- as Pillow 13
// decodes them (PpmImagePlugin) followed by convert('RGB'), which is what Keras' load_img does.
// Pillow's behaviour was established by experiment; each rule is a fixture made by
// Tests/Fixtures/pillow/make_format_fixtures.py:
//  * Header: the magic, then width, height and (but for PBM) maxval, separated by whitespace
//    (space, \t, \n, \v, \f, \r) and comments. A comment runs from '#' to the end of its line and is
//    cut out with its line end, so one inside a number joins the digits around it ("1#c\n0" is
//    10). A number is at most 10 characters, read as Python's int() reads it ("+5", "1_0").
//    Exactly one whitespace byte ends the header; binary data starts right after it.
//  * Samples are scaled to 0...255 by v * 255 / maxval, rounded half to even. Gray with maxval
//    above 255 is Pillow's 32-bit mode "I" (v * 65535 / maxval, rounded likewise), which
//    convert('RGB') clips at 255: such PGMs are nearly white. Binary samples above maxval clip at
//    255; ASCII ones are refused.
//  * PBM: 1 is black.
//  * ASCII data is read in blocks of 1 MiB (Pillow's ImageFile.SAFEBLOCK); what follows the last
//    sample in its block is checked too: in PBM every character must be 0, 1, whitespace or a
//    comment; in PGM/PPM a token cut by the block's end (or the file's) may not be longer than
//    10 characters, other tokens there are not looked at. Later blocks are not read.
// Output is (H, W, 3) uint8.

/// PNM file bytes (starting "P1".."P6" and whitespace, as decodeImage checked) -> RGB pixels.
func decodePNM(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) throws(ImageError) -> RGBImage {
  let kind = Int(bytes[1]) - 0x30  // 1...6
  let channels = kind % 3 == 0 ? 3 : 1
  var header = PNMScanner(bytes: bytes, at: 2)
  let width = try header.headerNumber("width")
  let height = try header.headerNumber("height")
  let maxval = kind % 3 == 1 ? 1 : try header.headerNumber("maxval")
  guard width > 0 && height > 0 else { throw ImageError("corrupt PNM: image size \(width)x\(height)") }
  guard (1...65535).contains(maxval) else { throw ImageError("corrupt PNM: maxval \(maxval) is not 1 to 65535") }
  try checkPixelLimit(width: width, height: height, maxPixels: maxPixels)
  let start = header.at
  let available = bytes.count - start
  let sampleBytes = maxval < 256 ? 1 : 2
  // Enough bytes for the samples before any memory is taken: binary data is exact, ASCII needs at
  // least one character per sample and (but for PBM) one separator between them. width * height
  // is within the pixel limit; the rest is checked, for callers that pass no limit.
  let (samples, overflow) = (width * height).multipliedReportingOverflow(by: channels)
  let (twice, overflow2) = samples.multipliedReportingOverflow(by: 2)
  let needed: Int
  switch kind {
  case 4: needed = (width + 7) / 8 * height
  case 5, 6: needed = sampleBytes == 1 ? samples : twice
  case 1: needed = samples
  default: needed = twice - 1
  }
  guard !overflow && !overflow2 && needed <= available else {
    throw ImageError(
      "truncated PNM: \(width)x\(height) P\(kind) needs \(needed) bytes of data, the file has \(available)")
  }
  var out = try rgbBuffer(width: width, height: height)
  let scale = pnmScale(maxval: maxval, gray16: channels == 1 && maxval > 255)
  switch kind {
  case 4:
    let rowBytes = (width + 7) / 8
    for y in 0..<height {
      for x in 0..<width {
        let bit = bytes[start + y * rowBytes + x / 8] >> (7 - x % 8) & 1
        setGray(&out, y * width + x, bit == 1 ? 0 : 255)
      }
    }
  case 5, 6:
    for i in 0..<samples {
      let at = start + i * sampleBytes
      let v = sampleBytes == 1 ? Int(bytes[at]) : Int(bytes[at]) << 8 | Int(bytes[at + 1])
      setSample(&out, i, channels, scale[v])
    }
  case 1:
    var data = PNMScanner(bytes: bytes, at: start)
    for i in 0..<samples {
      setGray(&out, i, try data.bit() == 1 ? 0 : 255)
    }
    try data.checkRestOfBlock(from: start, plainBits: true)
  default:
    var data = PNMScanner(bytes: bytes, at: start)
    for i in 0..<samples {
      let v = try data.dataNumber()
      guard v <= maxval else { throw ImageError("corrupt PNM: sample \(v) is above maxval \(maxval)") }
      setSample(&out, i, channels, scale[v])
    }
    try data.checkRestOfBlock(from: start, plainBits: false)
  }
  return RGBImage(width: width, height: height, pixels: out)
}

private func setGray(_ out: inout [UInt8], _ pixel: Int, _ v: UInt8) {
  (out[3 * pixel], out[3 * pixel + 1], out[3 * pixel + 2]) = (v, v, v)
}

/// Sample `i` of an image with `channels` samples a pixel (1: gray, into all three).
private func setSample(_ out: inout [UInt8], _ i: Int, _ channels: Int, _ v: UInt8) {
  if channels == 3 { out[i] = v } else { setGray(&out, i, v) }
}

/// Each sample value's 8-bit result: v * 255 / maxval (v * 65535 / maxval for 16-bit gray, as
/// Pillow's mode "I"), rounded half to even, clipped at 255. One entry per value a sample can hold.
private func pnmScale(maxval: Int, gray16: Bool) -> [UInt8] {
  let top = gray16 ? 65535 : 255
  return (0..<(maxval < 256 ? 256 : 65536)).map { v in
    let (q, r) = (v * top).quotientAndRemainder(dividingBy: maxval)
    let rounded = 2 * r > maxval || (2 * r == maxval && q % 2 == 1) ? q + 1 : q
    return UInt8(min(rounded, 255))
  }
}

/// Pillow's reading of PNM text, header and ASCII data alike: whitespace and comments between
/// tokens, comments inside a token cut out.
private struct PNMScanner {
  let bytes: UnsafeRawBufferPointer
  var at: Int
  /// Index of the last character of the last token or bit read.
  var lastRead = 0

  static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }

  /// Moves past a comment starting at `at` ('#'): up to and including its line end.
  mutating func skipComment() {
    while at < bytes.count {
      let b = bytes[at]
      at += 1
      if b == 0x0A || b == 0x0D { return }
    }
  }

  /// Moves to the next character that is neither whitespace nor in a comment.
  mutating func skipSpaceAndComments() {
    while at < bytes.count {
      if bytes[at] == 0x23 {
        skipComment()
      } else if PNMScanner.isSpace(bytes[at]) {
        at += 1
      } else {
        return
      }
    }
  }

  /// The next token (comments inside cut out) and the one whitespace byte that ends it; nil at
  /// the end of the file. Tokens longer than 10 characters are refused, as Pillow refuses them;
  /// reading stops there, so a huge token costs nothing.
  mutating func token(_ what: String) throws(ImageError) -> [UInt8]? {
    skipSpaceAndComments()
    guard at < bytes.count else { return nil }
    var token: [UInt8] = []
    while at < bytes.count {
      let b = bytes[at]
      if b == 0x23 {
        skipComment()
        continue
      }
      at += 1
      if PNMScanner.isSpace(b) { break }
      guard token.count < 10 else { throw ImageError("corrupt PNM: \(what) longer than 10 characters") }
      token.append(b)
      lastRead = at - 1
    }
    return token
  }

  mutating func headerNumber(_ what: String) throws(ImageError) -> Int {
    guard let token = try token("the \(what)") else {
      throw ImageError("truncated PNM: the header ends before the \(what)")
    }
    guard let value = pythonInt(token) else {
      throw ImageError("corrupt PNM header: the \(what) \"\(printable(token))\" is not a number")
    }
    return value
  }

  mutating func dataNumber() throws(ImageError) -> Int {
    guard let token = try token("a sample") else {
      throw ImageError("truncated PNM: the file ends before the last sample")
    }
    guard let value = pythonInt(token), value >= 0 else {
      throw ImageError("corrupt PNM: the sample \"\(printable(token))\" is not a number from 0 to maxval")
    }
    return value
  }

  /// A P1 sample: the next '0' or '1', which need no whitespace between them.
  mutating func bit() throws(ImageError) -> Int {
    skipSpaceAndComments()
    guard at < bytes.count else { throw ImageError("truncated PNM: the file ends before the last pixel") }
    let b = bytes[at]
    guard b == 0x30 || b == 0x31 else { throw ImageError("corrupt PNM: \"\(printable([b]))\" in P1 data") }
    lastRead = at
    at += 1
    return Int(b) - 0x30
  }

  /// Pillow's check of the rest of the 1 MiB block (counted from `start`) holding the last sample:
  /// PBM: every character but whitespace and comments is 0 or 1; PGM/PPM: a token the block ends
  /// in (no whitespace after it within the block, comments cut out) has at most 10 characters.
  mutating func checkRestOfBlock(from start: Int, plainBits: Bool) throws(ImageError) {
    let block = 1 << 20
    let end = min(bytes.count, start + ((lastRead - start) / block + 1) * block)
    var tail = 0  // characters of the token being read, 0 between tokens
    while at < end {
      if plainBits {
        skipSpaceAndComments()
        if at < end { _ = try bit() }
      } else if bytes[at] == 0x23 {
        skipComment()
      } else {
        tail = PNMScanner.isSpace(bytes[at]) ? 0 : tail + 1
        at += 1
      }
    }
    guard tail <= 10 else { throw ImageError("corrupt PNM: the data ends in a token longer than 10 characters") }
  }
}

/// Python's int() of an ASCII token: an optional sign, digits, single underscores between
/// digits. Tokens are at most 10 characters, so the value fits.
private func pythonInt(_ token: [UInt8]) -> Int? {
  var digits = token[...]
  var sign = 1
  if let first = digits.first, first == 0x2B || first == 0x2D {
    sign = first == 0x2D ? -1 : 1
    digits = digits.dropFirst()
  }
  guard let first = digits.first, let last = digits.last, first != 0x5F, last != 0x5F else { return nil }
  var value = 0
  var previous: UInt8 = 0
  for b in digits {
    if b == 0x5F {
      guard previous != 0x5F else { return nil }
    } else {
      guard (0x30...0x39).contains(b) else { return nil }
      value = value * 10 + Int(b - 0x30)
    }
    previous = b
  }
  return sign * value
}

private func printable(_ token: [UInt8]) -> String {
  String(token.map { (0x20..<0x7F).contains($0) ? Character(UnicodeScalar($0)) : "?" })
}
