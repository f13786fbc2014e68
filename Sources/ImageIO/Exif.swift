// EXIF orientation: reading tag 0x0112 from a TIFF block, and turning pixels upright the way
// PIL.ImageOps.exif_transpose does. Images are (H, W, 3) uint8.

/// The Orientation tag (1...8 in valid files) from an EXIF block (TIFF header, either byte
/// order, optionally preceded by "Exif\0\0"); nil when absent or unreadable. Only IFD0 is
/// read, which is where Pillow's `getexif()` finds the tag.
func exifOrientation(_ block: UnsafeRawBufferPointer) -> Int? {
  var tiff = block
  let exifPrefix: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]  // "Exif\0\0"
  if tiff.count >= 6 && tiff.prefix(6).elementsEqual(exifPrefix) {
    tiff = UnsafeRawBufferPointer(rebasing: tiff[6...])
  }
  guard tiff.count >= 8 else { return nil }
  let bigEndian: Bool
  switch (tiff[0], tiff[1]) {
  case (0x49, 0x49): bigEndian = false  // "II"
  case (0x4D, 0x4D): bigEndian = true  // "MM"
  default: return nil
  }
  func u16(_ at: Int) -> Int? {
    guard at >= 0, at + 2 <= tiff.count else { return nil }
    let a = Int(tiff[at])
    let b = Int(tiff[at + 1])
    return bigEndian ? a << 8 | b : b << 8 | a
  }
  func u32(_ at: Int) -> Int? {
    guard let hi = u16(bigEndian ? at : at + 2), let lo = u16(bigEndian ? at + 2 : at) else {
      return nil
    }
    return hi << 16 | lo
  }
  guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return nil }
  for entry in 0..<count {
    let at = ifd + 2 + 12 * entry
    guard let tag = u16(at), let type = u16(at + 2) else { return nil }
    guard tag == 0x0112 else { continue }
    // SHORT is what the standard prescribes; accept LONG too, read in place.
    switch type {
    case 3: return u16(at + 8)
    case 4: return u32(at + 8)
    default: return nil
    }
  }
  return nil
}

/// The image turned upright for an EXIF orientation, as `exif_transpose` does: 2 mirror,
/// 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90
/// counter-clockwise. Other values (1, absent, invalid) leave the image unchanged.
public func applyExifOrientation(_ image: RGBImage, orientation: Int) -> RGBImage {
  let w = image.width
  let h = image.height
  // Output pixel (x, y) reads source pixel origin + x * dx + y * dy (in pixels).
  let outW: Int
  let outH: Int
  let origin: Int
  let dx: Int
  let dy: Int
  switch orientation {
  case 2: (outW, outH, origin, dx, dy) = (w, h, w - 1, -1, w)
  case 3: (outW, outH, origin, dx, dy) = (w, h, h * w - 1, -1, -w)
  case 4: (outW, outH, origin, dx, dy) = (w, h, (h - 1) * w, 1, -w)
  case 5: (outW, outH, origin, dx, dy) = (h, w, 0, w, 1)
  case 6: (outW, outH, origin, dx, dy) = (h, w, (h - 1) * w, -w, 1)
  case 7: (outW, outH, origin, dx, dy) = (h, w, h * w - 1, -w, -1)
  case 8: (outW, outH, origin, dx, dy) = (h, w, w - 1, w, -1)
  default: return image
  }
  var out = [UInt8](repeating: 0, count: outW * outH * 3)
  image.pixels.withUnsafeBufferPointer { src in
    out.withUnsafeMutableBufferPointer { dst in
      for y in 0..<outH {
        var s = origin + y * dy
        var d = y * outW * 3
        for _ in 0..<outW {
          dst[d] = src[3 * s]
          dst[d + 1] = src[3 * s + 1]
          dst[d + 2] = src[3 * s + 2]
          s += dx
          d += 3
        }
      }
    }
  }
  return RGBImage(width: outW, height: outH, pixels: out)
}
