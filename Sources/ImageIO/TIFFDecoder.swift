// TIFF decoding through libtiff (via the CShims wrapper that keeps its messages off stderr),
// converted to RGB the way Pillow's `Image.open(...).convert('RGB')` does. Pillow has libtiff
// decompress strips and tiles (TIFFReadEncodedStrip/Tile; uncompressed ones it reads itself, to
// the same bytes) and turns samples into pixels with its own unpackers, not libtiff's
// TIFFRGBAImage; so does this file, with Pillow's rules (TIFFLayout.swift).
// Output is (H, W, 3) uint8.
import CShims

/// TIFF file bytes -> RGB pixels of the first page, turned upright: Pillow applies a TIFF's
/// Orientation tag while loading (and then deletes the tag), so Keras' `load_img` sees the
/// turned image. No orientation is reported, as Pillow's `getexif()` has none left.
func decodeTIFF(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) throws(ImageError)
  -> (RGBImage, orientation: Int?)
{
  let data = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
  var info = hs_tiff_info()
  var message = [CChar](repeating: 0, count: Int(HS_IMAGE_MESSAGE_CAPACITY))
  // libtiff's own allocations (compressed strips, tag arrays) never need more than the file
  // holds; the floor leaves room for codec state.
  let maxAllocation = UInt64(max(2 * bytes.count, 64 << 20))
  guard let tiff = hs_tiff_open(data, bytes.count, maxAllocation, &info, &message, message.count) else {
    throw ImageError("corrupt TIFF: \(cString(message))")
  }
  defer { hs_tiff_close(tiff) }
  let width = Int(info.width)
  let height = Int(info.height)
  try checkPixelLimit(width: width, height: height, maxPixels: maxPixels)
  guard width > 0, height > 0 else { throw ImageError("corrupt TIFF: image size \(width)x\(height)") }
  let layout = try TIFFLayout(info)
  var samples = try readSamples(tiff, info, layout)  // (H, W, layout.kept)
  let rgb = tiffSamplesToRGB(&samples, count: width * height, layout)
  let image = RGBImage(width: width, height: height, pixels: rgb)
  return (applyExifOrientation(image, orientation: Int(info.orientation)), nil)
}

/// Every strip or tile decoded and reduced to the kept samples, 8 bits each: (H, W, kept).
/// Sub-byte samples are unpacked unscaled; 16-bit ones are reduced as the layout says.
private func readSamples(_ tiff: OpaquePointer, _ info: hs_tiff_info, _ layout: TIFFLayout) throws(ImageError)
  -> [UInt8]
{
  let width = Int(info.width)
  let height = Int(info.height)
  let blockWidth = Int(info.block_width)
  let blockHeight = Int(info.block_height)
  guard blockWidth > 0, blockHeight > 0 else {
    throw ImageError("corrupt TIFF: \(info.tiled != 0 ? "tiles" : "strips") of \(blockWidth)x\(blockHeight) pixels")
  }
  let across = info.tiled != 0 ? (width + blockWidth - 1) / blockWidth : 1
  let down = (height + blockHeight - 1) / blockHeight
  let perPlane = across * down
  guard Int(info.blocks) >= perPlane * layout.planes else {
    throw ImageError("corrupt TIFF: \(info.blocks) strips or tiles, where the image needs \(perPlane * layout.planes)")
  }
  let rowBytes = (blockWidth * layout.samplesPerBlockPixel * layout.bits + 7) / 8
  let blockBytes = Int(clamping: info.block_bytes)
  // A tile can be larger than a small image, but a header declaring enormous tiles or strips
  // must not make us allocate for them: no block may exceed the whole image by much.
  let imageBytes = height * ((width * layout.samplesPerBlockPixel * layout.planes * layout.bits + 7) / 8)
  // (Compared in this order so that no product can overflow: rowBytes is bounded first.)
  guard blockBytes <= max(imageBytes, 16 << 20), rowBytes <= blockBytes,
    rowBytes * min(blockHeight, height) <= blockBytes
  else {
    throw ImageError(
      "corrupt TIFF: \(info.tiled != 0 ? "tiles" : "strips") of \(blockWidth)x\(blockHeight) pixels "
        + "(\(blockBytes) bytes each) for a \(width)x\(height) image")
  }
  let kept = layout.kept
  var samples = [UInt8](repeating: 0, count: width * height * kept)
  var block = [UInt8](repeating: 0, count: blockBytes)
  var message = [CChar](repeating: 0, count: Int(HS_IMAGE_MESSAGE_CAPACITY))
  // Planes past the kept samples (alpha that is dropped) are not read.
  for plane in 0..<min(layout.planes, kept) {
    for index in 0..<perPlane {
      let got = block.withUnsafeMutableBytes { buffer in
        hs_tiff_read_block(
          tiff, UInt32(plane * perPlane + index), buffer.baseAddress, buffer.count, &message, message.count)
      }
      if got < 0 { throw ImageError("corrupt TIFF: \(cString(message))") }
      let x0 = (index % across) * blockWidth
      let y0 = (index / across) * blockHeight
      let rows = min(blockHeight, height - y0)
      let columns = min(blockWidth, width - x0)
      guard got >= rows * rowBytes else {
        throw ImageError("corrupt TIFF: strip or tile \(index) decodes to \(got) bytes, not \(rows * rowBytes)")
      }
      block.withUnsafeBytes { source in
        samples.withUnsafeMutableBufferPointer { target in
          for row in 0..<rows {
            let from = source.baseAddress! + row * rowBytes
            let to = target.baseAddress! + ((y0 + row) * width + x0) * kept + plane
            unpackRow(from, to, columns: columns, layout)
          }
        }
      }
    }
  }
  return samples
}

/// One block row -> the kept samples of `columns` pixels, `layout.kept` apart in `to`.
private func unpackRow(
  _ from: UnsafeRawPointer, _ to: UnsafeMutablePointer<UInt8>, columns: Int, _ layout: TIFFLayout
) {
  let step = layout.samplesPerBlockPixel
  let kept = layout.kept
  // Samples of one pixel that land in `to`: all kept ones, or the one of this plane.
  let count = layout.planes > 1 ? 1 : kept
  switch layout.bits {
  case 8:
    let source = from.assumingMemoryBound(to: UInt8.self)
    for x in 0..<columns {
      for c in 0..<count { to[x * kept + c] = source[x * step + c] }
    }
  case 16:
    for x in 0..<columns {
      for c in 0..<count {
        // libtiff hands out 16-bit samples in native byte order.
        let value = from.loadUnaligned(fromByteOffset: 2 * (x * step + c), as: UInt16.self)
        let reduced: UInt8
        if !layout.clipsSixteen {
          reduced = UInt8(value >> 8)
        } else if layout.signed {
          reduced = UInt8(clamping: Int16(bitPattern: value))
        } else {
          reduced = UInt8(clamping: value)
        }
        to[x * kept + c] = reduced
      }
    }
  default:  // 1, 2 or 4 bits, one sample per pixel, most significant bits first
    let source = from.assumingMemoryBound(to: UInt8.self)
    let bits = layout.bits
    let mask = (1 << bits) - 1
    for x in 0..<columns {
      let bit = x * bits
      to[x * kept] = UInt8((Int(source[bit >> 3]) >> (8 - bits - (bit & 7))) & mask)
    }
  }
}

/// (N, kept) samples -> (N, 3) RGB, per Pillow's convert('RGB') from the TIFF's mode.
private func tiffSamplesToRGB(_ samples: inout [UInt8], count: Int, _ layout: TIFFLayout) -> [UInt8] {
  if case .cmyk = layout.color {
    // Pillow's CMYK -> RGB, as for JPEG but with the ink stored plainly (not inverted).
    for i in 0..<samples.count { samples[i] = 255 - samples[i] }
    return invertedCMYKToRGB(samples)
  }
  var out = [UInt8](repeating: 0, count: count * 3)
  samples.withUnsafeBufferPointer { src in
    out.withUnsafeMutableBufferPointer { dst in
      switch layout.color {
      case .gray(let invert):
        // Pillow's unpackers scale 1/2/4-bit gray to 0...255 ("1", "L;2", "L;4"); "I" variants invert.
        let top = (1 << layout.bits) - 1
        let scale = layout.bits < 8 ? 255 / top : 1
        for i in 0..<count {
          var v = Int(src[i])
          if invert { v = top - v }
          let g = UInt8(truncatingIfNeeded: v * scale)
          dst[3 * i] = g
          dst[3 * i + 1] = g
          dst[3 * i + 2] = g
        }
      case .palette(let table):
        for i in 0..<count {
          let e = 3 * Int(src[i])
          dst[3 * i] = table[e]
          dst[3 * i + 1] = table[e + 1]
          dst[3 * i + 2] = table[e + 2]
        }
      case .rgb:
        for i in 0..<(3 * count) { dst[i] = src[i] }
      case .premultipliedRGB:
        // Pillow's "RGBa" unpacker: c * 255 / a rounded down (clipped), 0 where a is 0.
        for i in 0..<count {
          let a = Int(src[4 * i + 3])
          for c in 0..<3 {
            let v = Int(src[4 * i + c])
            dst[3 * i + c] = a == 0 ? 0 : UInt8(min(255, v * 255 / a))
          }
        }
      case .cmyk:
        break  // handled above
      }
    }
  }
  return out
}

/// "II*\0" or "MM\0*" (classic TIFF), "II+\0" or "MM\0+" (BigTIFF, which Pillow and libtiff
/// read too).
func isTIFF(_ bytes: UnsafeRawBufferPointer) -> Bool {
  guard bytes.count >= 4 else { return false }
  let (a, b, c, d) = (bytes[0], bytes[1], bytes[2], bytes[3])
  return (a == 0x49 && b == 0x49 && (c == 0x2A || c == 0x2B) && d == 0)
    || (a == 0x4D && b == 0x4D && c == 0 && (d == 0x2A || d == 0x2B))
}
