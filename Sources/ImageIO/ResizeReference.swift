// Naive references for the resize kernels in Resize.swift: the same Pillow arithmetic written
// one output sample at a time, with nothing precomputed or blocked. Tests sweep shapes and
// require the fast kernels to agree byte for byte. Images are (H, W, 3).

/// Pillow's NEAREST, pixel by pixel, walking the source position as Pillow does.
func resizeNearestReference(_ image: RGBImage, height: Int, width: Int) -> RGBImage {
  var out = [UInt8](repeating: 0, count: width * height * 3)
  let stepX = Double(Float(image.width)) / Double(width)
  let stepY = Double(Float(image.height)) / Double(height)
  var sy = stepY * 0.5
  for y in 0..<height {
    var sx = stepX * 0.5
    for x in 0..<width {
      let (ix, iy) = (Int(sx), Int(sy))
      if ix < image.width && iy < image.height {
        for ch in 0..<3 { out[(y * width + x) * 3 + ch] = image.pixels[(iy * image.width + ix) * 3 + ch] }
      }
      sx += stepX
    }
    sy += stepY
  }
  return RGBImage(width: width, height: height, pixels: out)
}

/// One output sample of Pillow's 8-bit convolution along an axis of length `inSize`.
private func convolve(_ inSize: Int, _ outSize: Int, _ i: Int, _ sample: (Int) -> UInt8) -> UInt8 {
  let scale = Double(Float(inSize)) / Double(outSize)
  let filterScale = max(scale, 1)
  let center = (Double(i) + 0.5) * scale
  let lo = max(Int(center - filterScale + 0.5), 0)
  let hi = min(Int(center + filterScale + 0.5), inSize)
  let weights = (lo..<hi).map { triangleFilter((Double($0) - center + 0.5) / filterScale) }
  let total = weights.reduce(0, +)
  var sum: Int32 = 1 << 21
  for (j, w) in weights.enumerated() {
    let normalised = total != 0 ? w / total : w
    sum += Int32(sample(lo + j)) * Int32(0.5 + normalised * 4_194_304)  // 2^22
  }
  return UInt8(clamping: sum >> 22)
}

/// Pillow's BILINEAR: two passes with uint8 rounding between, in Pillow's pass order.
func resizeBilinearReference(_ image: RGBImage, height: Int, width: Int) -> RGBImage {
  let (w0, h0) = (image.width, image.height)
  func px(_ p: [UInt8], _ rowWidth: Int, _ x: Int, _ y: Int, _ ch: Int) -> UInt8 {
    p[(y * rowWidth + x) * 3 + ch]
  }
  func horizontal(_ p: [UInt8], rows: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: rows * width * 3)
    for y in 0..<rows {
      for x in 0..<width {
        for ch in 0..<3 {
          out[(y * width + x) * 3 + ch] =
            w0 == width
            ? px(p, w0, x, y, ch) : convolve(w0, width, x) { px(p, w0, $0, y, ch) }
        }
      }
    }
    return out
  }
  func vertical(_ p: [UInt8], rowWidth: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: height * rowWidth * 3)
    for y in 0..<height {
      for x in 0..<rowWidth {
        for ch in 0..<3 {
          out[(y * rowWidth + x) * 3 + ch] =
            h0 == height
            ? px(p, rowWidth, x, y, ch) : convolve(h0, height, y) { px(p, rowWidth, x, $0, ch) }
        }
      }
    }
    return out
  }
  let verticalFirst = h0 - height > 0 && h0 - height > (w0 - width) * 2
  let pixels =
    verticalFirst
    ? horizontal(vertical(image.pixels, rowWidth: w0), rows: height)
    : vertical(horizontal(image.pixels, rows: h0), rowWidth: width)
  return RGBImage(width: width, height: height, pixels: pixels)
}
