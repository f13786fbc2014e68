// BMP's RLE8 and RLE4 compression, decoded as Pillow 13 decodes it. Pillow appends pixels to one
// stream of rows (bottom row first, unless the height is negative) and departs from the format's
// description in ways a file can rely on, so we follow it exactly (each is a fixture):
//  * An encoded run that would pass the end of its row is cut at the row's end; the pixels of
//    later runs are dropped too until an end-of-line (the column does not wrap).
//  * An absolute run is never cut: it continues into the next row, and the column counts on past
//    the row's end. RLE4 absolute runs of odd length use the high nibble of their last byte.
//  * The padding after an absolute run aligns to an even position in the file, not in the
//    pixel data (the two differ when bfOffBits is odd).
//  * A delta (dx, dy) skips dx + dy * width pixels of the stream; skipped pixels are index 0.
//  * End-of-line fills the rest of the row with index 0.
//  * The stream must fill every pixel: data that ends (end-of-bitmap, end of file, a cut
//    escape) before the last pixel is refused ("not enough image data"), never padded.
// Output is (H, W, 3) uint8.

/// RLE8/RLE4 pixel data -> RGB.
func decodeBMPRLE(_ bytes: UnsafeRawBufferPointer, _ layout: BMPLayout) throws(ImageError) -> RGBImage {
  let (w, h) = (layout.width, layout.height)
  let total = w * h  // the pixel limit holds, so no overflow
  // A first pass only counts, so that data that cannot fill the image is refused before the
  // image's memory is taken.
  let counted = walkBMPRLE(bytes, layout, total: total, into: nil)
  guard counted >= total else {
    throw ImageError(
      "truncated BMP: the \(layout.compression == .rle4 ? "RLE4" : "RLE8") data fills \(counted) of "
        + "\(w)x\(h) pixels")
  }
  var indices = [UInt8](repeating: 0, count: total)  // (H, W) in file row order
  indices.withUnsafeMutableBufferPointer { _ = walkBMPRLE(bytes, layout, total: total, into: $0) }
  // Each index's RGB, (256, 3).
  let table: [UInt8]
  switch layout.pixels {
  case .palette(let rgb): table = rgb
  // Pillow's "P" raw mode into a mode "1" image: any non-zero index is white.
  case .bilevel: table = (0..<768).map { $0 < 3 ? 0 : 255 }
  // .gray: the index is the level (the other layouts have no RLE).
  default: table = (0..<768).map { UInt8($0 / 3) }
  }
  var out = try rgbBuffer(width: w, height: h)
  out.withUnsafeMutableBufferPointer { dst in
    for y in 0..<h {
      let row = (layout.topDown ? y : h - 1 - y) * w
      for x in 0..<w {
        let i = 3 * Int(indices[row + x])
        let d = 3 * (y * w + x)
        (dst[d], dst[d + 1], dst[d + 2]) = (table[i], table[i + 1], table[i + 2])
      }
    }
  }
  return RGBImage(width: w, height: h, pixels: out)
}

/// Walks the RLE stream from `layout.dataOffset` to the first `total` pixels, end-of-bitmap or
/// the end of the file, writing indices into `indices` (already zeroed) when given, and returns
/// how many pixels the stream yields (at most `total`). Linear in the file's size: skipped and
/// padded pixels are only counted.
private func walkBMPRLE(
  _ bytes: UnsafeRawBufferPointer, _ layout: BMPLayout, total: Int, into indices: UnsafeMutableBufferPointer<UInt8>?
) -> Int {
  let width = layout.width
  let rle4 = layout.compression == .rle4
  var at = layout.dataOffset
  var filled = 0  // pixels of the stream so far, including skipped ones
  var column = 0  // Pillow's x: reset by end-of-line and delta only
  func put(_ value: UInt8) {
    if filled < total { indices?[filled] = value }
    filled += 1
  }
  while filled < total && at <= bytes.count - 2 {
    let (count, value) = (Int(bytes[at]), bytes[at + 1])
    at += 2
    if count > 0 {  // an encoded run, cut at the end of the row
      let run = min(count, max(0, width - column))
      for k in 0..<run {
        put(rle4 ? (k % 2 == 0 ? value >> 4 : value & 15) : value)
      }
      column += run
    } else if value == 0 {  // end of line
      filled += (width - filled % width) % width
      column = 0
    } else if value == 1 {  // end of bitmap
      break
    } else if value == 2 {  // delta
      guard at <= bytes.count - 2 else { break }
      filled += Int(bytes[at]) + Int(bytes[at + 1]) * width
      at += 2
      column = filled % width
    } else {  // an absolute run of `value` pixels
      let length = Int(value)
      let need = rle4 ? (length + 1) / 2 : length
      let present = min(need, bytes.count - at)
      for k in 0..<(rle4 ? min(length, 2 * present) : present) {
        let byte = bytes[at + (rle4 ? k / 2 : k)]
        put(rle4 ? (k % 2 == 0 ? byte >> 4 : byte & 15) : byte)
      }
      guard present == need else { break }
      at += need
      column += length
      if at % 2 == 1 { at += 1 }
    }
  }
  return min(filled, total)
}
