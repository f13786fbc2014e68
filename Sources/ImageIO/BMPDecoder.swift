// BMP decoding in Swift, as Pillow 13 decodes a .bmp (BmpImagePlugin) followed by
// convert('RGB'), which is what Keras' load_img does. Pillow's behaviour was established by
// experiment; every rule below is a fixture made by Tests/Fixtures/pillow/make_format_fixtures.py.
// Where Pillow departs from the format's description, we follow Pillow:
//  * Headers of 12 (OS/2 1.x, 16-bit sizes, 3-byte palette entries), 40, 52, 56, 64, 108 and 124
//    bytes; 1/4/8/16/24/32 bits per pixel (2 is refused); the width is unsigned, a negative
//    height means top-down rows.
//  * A palette of `biClrUsed` entries (2^bits when 0), read right after the header whatever
//    bfOffBits says; more than 65536 entries, or more than 256 of them within the file, are
//    refused. Indices past its end are black. A palette that is exactly the gray ramp 0, 1, 2, ...
//    (3 entries or more) makes the image mode "L": the index itself is the gray level, past the
//    palette too, and uncompressed rows are read as one byte a pixel whatever the depth (a 1- or
//    4-bit row shorter than its width in bytes fails, as in Pillow). A palette that is exactly
//    black-white (2 entries) or black (1 entry) makes it mode "1": uncompressed rows are then read
//    as packed bits whatever the depth, and RLE indices become white when non-zero.
//  * Pixels start at bfOffBits; when it is 0, or points at the palette itself (14 + header size),
//    they start right after the palette.
//  * 16-bit pixels without bit fields are 5-5-5 (the top bit ignored), scaled by v * 255 / 31;
//    32-bit ones are B, G, R and an ignored byte. Bit fields are read only in the layouts Pillow
//    knows (`bitFields32`, 5-6-5 and 5-5-5); others are refused. A 40-byte header has no alpha
//    mask, so alpha there is always ignored; convert('RGB') drops alpha anyway, uncomposited.
//  * Rows are padded to 4 bytes, but only the pixels' own bytes of the last row must be present.
// RLE4/RLE8 are in BMPRLE.swift. Output is (H, W, 3) uint8.

/// BMP file bytes -> RGB pixels.
func decodeBMP(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) throws(ImageError) -> RGBImage {
  let layout = try readBMPLayout(bytes)
  try checkPixelLimit(width: layout.width, height: layout.height, maxPixels: maxPixels)
  switch layout.compression {
  case .rle8, .rle4: return try decodeBMPRLE(bytes, layout)
  case .none, .bitFields: return try decodeBMPRows(bytes, layout)
  }
}

/// What the headers say, checked: everything needed to decode the pixels.
struct BMPLayout {
  enum Compression { case none, rle8, rle4, bitFields }

  /// How a pixel's value becomes RGB: Pillow's image mode for the file and its raw mode.
  enum Pixels {
    /// Mode "P": an index into `rgb`, (256, 3), black past the file's palette.
    case palette(rgb: [UInt8])
    /// Mode "L" from a gray-ramp palette: the index is the gray level.
    case gray
    /// Mode "1" from a black(-white) palette.
    case bilevel
    /// 16 bits: 5-5-5 (the default, also with bit fields 0x7C00 0x3E0 0x1F) or 5-6-5.
    case rgb555
    case rgb565
    /// 24 and 32 bits: which byte of a pixel holds each colour.
    case bytes(red: Int, green: Int, blue: Int)
  }

  var width: Int
  var height: Int
  /// Rows are stored top row first (a negative height); BMP's usual order is bottom row first.
  var topDown: Bool
  var bits: Int
  var compression: Compression
  var pixels: Pixels
  /// Where the pixel data starts (may be past the end of the file: then it is truncated).
  var dataOffset: Int
}

/// The 32-bit bit-field layouts Pillow 13 reads, with the byte of each colour; any other set of
/// masks is refused, as Pillow refuses it ("Unsupported BMP bitfields layout"). All masks 0
/// read as B, G, R, A.
private let bitFields32: [(masks: [Int], red: Int, green: Int, blue: Int)] = [
  ([0xFF_0000, 0xFF00, 0xFF, 0], 2, 1, 0),
  ([0xFF00_0000, 0xFF00, 0xFF, 0], 3, 1, 0),
  ([0xFF00_0000, 0xFF_0000, 0xFF00, 0], 3, 2, 1),
  ([0, 0, 0, 0], 2, 1, 0),
  ([0xFF, 0xFF00, 0xFF_0000, 0xFF00_0000], 0, 1, 2),
  ([0xFF_0000, 0xFF00, 0xFF, 0xFF00_0000], 2, 1, 0),
  ([0xFF00_0000, 0xFF00, 0xFF, 0xFF_0000], 3, 1, 0),
  ([0xFF00_0000, 0xFF_0000, 0xFF00, 0xFF], 3, 2, 1),
]

/// Reads and checks the file header, the information header, bit-field masks and palette.
func readBMPLayout(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> BMPLayout {
  func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
  func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
  guard bytes.count >= 18 else { throw ImageError("truncated BMP: only \(bytes.count) bytes, too short for a header") }
  let headerSize = u32(14)
  guard [12, 40, 52, 56, 64, 108, 124].contains(headerSize) else {
    throw ImageError("unsupported BMP: a \(headerSize)-byte header (Pillow reads 12, 40, 52, 56, 64, 108 and 124)")
  }
  let headerEnd = 14 + headerSize
  guard bytes.count >= headerEnd else { throw ImageError("truncated BMP: the \(headerSize)-byte header is cut short") }
  let width: Int
  let signedHeight: Int
  let bits: Int
  var compressionCode = 0
  var colors = 0
  if headerSize == 12 {
    width = u16(18)
    signedHeight = u16(20)
    bits = u16(24)
  } else {
    width = u32(18)
    signedHeight = Int(Int32(truncatingIfNeeded: u32(22)))
    bits = u16(28)
    compressionCode = u32(30)
    colors = u32(46)
  }
  let height = abs(signedHeight)
  guard width > 0 && height > 0 else { throw ImageError("corrupt BMP: image size \(width)x\(signedHeight)") }
  guard [1, 4, 8, 16, 24, 32].contains(bits) else { throw ImageError("unsupported BMP: \(bits) bits per pixel") }
  var afterHeaders = headerEnd
  let compression: BMPLayout.Compression
  let pixels: BMPLayout.Pixels
  switch (compressionCode, bits) {
  case (0, 16):
    (compression, pixels) = (.none, .rgb555)
  case (0, 24), (0, 32):
    (compression, pixels) = (.none, .bytes(red: 2, green: 1, blue: 0))
  case (3, 16), (3, 24), (3, 32):
    // A 40-byte header is followed by three masks; longer ones hold them (and alpha from 56 bytes).
    let masksAt = headerSize == 40 ? headerEnd : 54
    if headerSize == 40 {
      afterHeaders += 12
      guard bytes.count >= afterHeaders else { throw ImageError("truncated BMP: the bit-field masks are cut short") }
    }
    let masks = [u32(masksAt), u32(masksAt + 4), u32(masksAt + 8), headerSize >= 56 ? u32(66) : 0]
    compression = .bitFields
    pixels = try bitFieldPixels(bits: bits, masks: masks)
  case (0, _), (1, 1), (1, 4), (1, 8), (2, 1), (2, 4), (2, 8):
    // Pillow picks the decoder from the compression and the palette from the depth, even when
    // they disagree (RLE8 data in a 4-bit file).
    compression = compressionCode == 0 ? .none : compressionCode == 1 ? .rle8 : .rle4
    if colors == 0 { colors = 1 << bits }
    guard colors <= 65536 else { throw ImageError("unsupported BMP: a palette of \(colors) colours") }
    let palette = try bmpPalette(bytes, at: headerEnd, colors: colors, entrySize: headerSize == 12 ? 3 : 4)
    pixels = palette.pixels
    afterHeaders = palette.end
    if case .gray = pixels, compression == .none, width > (width * bits + 31) / 32 * 4 {
      // Pillow makes this mode "L", whose rows of one byte a pixel must fit in the file's rows.
      throw ImageError(
        "unsupported BMP: a \(bits)-bit image \(width) wide with a gray-ramp palette (Pillow cannot decode it)")
    }
  case (1, _), (2, _):
    throw ImageError("unsupported BMP: \(compressionCode == 1 ? "RLE8" : "RLE4") with \(bits) bits per pixel")
  case (3, _):
    throw ImageError("unsupported BMP: bit fields with \(bits) bits per pixel")
  default:
    throw ImageError("unsupported BMP: compression \(compressionCode) (Pillow reads none, RLE8, RLE4, bit fields)")
  }
  var dataOffset = u32(10)
  if dataOffset == 0 || (bits <= 8 && dataOffset == headerEnd) { dataOffset = afterHeaders }
  return BMPLayout(
    width: width, height: height, topDown: signedHeight < 0, bits: bits, compression: compression,
    pixels: pixels, dataOffset: dataOffset)
}

/// The pixel layout for bit-field masks (red, green, blue, alpha), or Pillow's refusal.
private func bitFieldPixels(bits: Int, masks: [Int]) throws(ImageError) -> BMPLayout.Pixels {
  let rgb = Array(masks.prefix(3))
  switch bits {
  case 16 where rgb == [0xF800, 0x7E0, 0x1F]: return .rgb565
  case 16 where rgb == [0x7C00, 0x3E0, 0x1F]: return .rgb555
  case 24 where rgb == [0xFF_0000, 0xFF00, 0xFF]: return .bytes(red: 2, green: 1, blue: 0)
  case 32:
    if let known = bitFields32.first(where: { $0.masks == masks }) {
      return .bytes(red: known.red, green: known.green, blue: known.blue)
    }
  default: break
  }
  let hex = masks.map { "0x" + String($0, radix: 16) }.joined(separator: " ")
  throw ImageError("unsupported BMP: \(bits)-bit bit fields \(hex) (not a layout Pillow reads)")
}

/// The palette of `colors` entries (B, G, R and, after a long header, a fourth byte) at `at`,
/// as Pillow reads it: only whole entries within the file count; the rest are black.
private func bmpPalette(_ bytes: UnsafeRawBufferPointer, at: Int, colors: Int, entrySize: Int) throws(ImageError)
  -> (pixels: BMPLayout.Pixels, end: Int)
{
  let present = min(colors, (bytes.count - at) / entrySize)
  guard present <= 256 else { throw ImageError("unsupported BMP: a palette of \(colors) colours") }
  var rgb = [UInt8](repeating: 0, count: 256 * 3)  // (256, 3)
  var isRamp = present == colors
  for i in 0..<present {
    let entry = at + i * entrySize
    let (b, g, r) = (bytes[entry], bytes[entry + 1], bytes[entry + 2])
    (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]) = (r, g, b)
    // Pillow's gray test: entry i is (i, i, i), except that a 2-colour palette must be 0 and 255.
    let level = colors == 2 ? i * 255 : i
    if Int(r) != level || Int(g) != level || Int(b) != level { isRamp = false }
  }
  // Pillow's file position after reading the palette: the end of the file if it was short.
  let end = min(bytes.count, at + colors * entrySize)
  if !isRamp { return (.palette(rgb: rgb), end) }
  return (colors <= 2 ? .bilevel : .gray, end)
}

/// Uncompressed and bit-field rows -> RGB.
private func decodeBMPRows(_ bytes: UnsafeRawBufferPointer, _ layout: BMPLayout) throws(ImageError) -> RGBImage {
  let (w, h, bits) = (layout.width, layout.height, layout.bits)
  // No overflow: w < 2^32 and bits <= 32.
  let stride = (w * bits + 31) / 32 * 4
  // The bytes of the last row Pillow's raw decoder reads for the image mode.
  let lastRow: Int
  switch layout.pixels {
  case .bilevel: lastRow = (w + 7) / 8
  case .gray: lastRow = w
  default: lastRow = (w * bits + 7) / 8
  }
  let available = max(0, bytes.count - layout.dataOffset)
  let (span, overflow) = stride.multipliedReportingOverflow(by: h - 1)
  guard !overflow, lastRow <= available, span <= available - lastRow else {
    throw ImageError(
      "truncated BMP: \(w)x\(h) pixels of \(bits) bits do not fit in the \(available) bytes after byte "
        + "\(layout.dataOffset)")
  }
  var out = try rgbBuffer(width: w, height: h)
  out.withUnsafeMutableBufferPointer { dst in
    for y in 0..<h {
      let row = layout.dataOffset + (layout.topDown ? y : h - 1 - y) * stride
      var d = y * w * 3
      func put(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        (dst[d], dst[d + 1], dst[d + 2]) = (r, g, b)
        d += 3
      }
      switch layout.pixels {
      case .palette(let rgb):
        for x in 0..<w {
          let i = 3 * packedIndex(bytes, row: row, x: x, bits: bits)
          put(rgb[i], rgb[i + 1], rgb[i + 2])
        }
      case .gray:  // one byte a pixel whatever the depth (readBMPLayout checked it fits)
        for x in 0..<w { put(bytes[row + x], bytes[row + x], bytes[row + x]) }
      case .bilevel:
        for x in 0..<w {
          let v: UInt8 = packedIndex(bytes, row: row, x: x, bits: 1) == 0 ? 0 : 255
          put(v, v, v)
        }
      case .rgb555:
        for x in 0..<w {
          let v = Int(bytes[row + 2 * x]) | Int(bytes[row + 2 * x + 1]) << 8
          put(scale5(v >> 10), scale5(v >> 5), scale5(v))
        }
      case .rgb565:
        for x in 0..<w {
          let v = Int(bytes[row + 2 * x]) | Int(bytes[row + 2 * x + 1]) << 8
          put(scale5(v >> 11), UInt8((v >> 5 & 63) * 255 / 63), scale5(v))
        }
      case .bytes(let red, let green, let blue):
        let step = bits / 8
        for x in 0..<w {
          let p = row + x * step
          put(bytes[p + red], bytes[p + green], bytes[p + blue])
        }
      }
    }
  }
  return RGBImage(width: w, height: h, pixels: out)
}

/// A 5-bit channel (the low 5 bits of `v`) as Pillow widens it: v * 255 / 31, rounded down.
private func scale5(_ v: Int) -> UInt8 { UInt8((v & 31) * 255 / 31) }

/// The `bits`-bit value of pixel `x` in the row at `row`, most significant bits first.
private func packedIndex(_ bytes: UnsafeRawBufferPointer, row: Int, x: Int, bits: Int) -> Int {
  switch bits {
  case 1: return Int(bytes[row + x / 8] >> (7 - x % 8)) & 1
  case 4: return Int(bytes[row + x / 2] >> (x % 2 == 0 ? 4 : 0)) & 15
  default: return Int(bytes[row + x])
  }
}

/// A zeroed (H, W, 3) buffer; the pixel limit was checked, the overflow check is for callers
/// that pass no limit.
func rgbBuffer(width: Int, height: Int) throws(ImageError) -> [UInt8] {
  let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
  let (count, overflow3) = pixels.multipliedReportingOverflow(by: 3)
  guard !overflow && !overflow3 else { throw ImageError("image is \(width)x\(height), too large to hold") }
  return [UInt8](repeating: 0, count: count)
}
