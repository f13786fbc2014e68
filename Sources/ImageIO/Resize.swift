// Resizing that reproduces Pillow's `Image.resize((w, h), resample)` on RGB images byte for
// byte (Keras' load_img calls it with target_size reversed to (w, h)). Images are (H, W, 3).
//
// NEAREST in Pillow is not a convolution: `_resize` turns it into an affine transform, and
// ImagingScaleAffine walks the source in double precision, *accumulating* the step
// (xo = scale/2; xo += scale per pixel) and truncating, so we accumulate the same way rather
// than computing (x + 0.5) * scale, which can round differently.
//
// BILINEAR is Pillow's antialiased two-pass convolution (Resample.c): a triangle filter whose
// support grows with the shrink factor, coefficients normalised in double and then rounded to
// fixed point with 22 fractional bits, one pass per axis, each rounding and clipping to uint8
// (horizontal first, over only the rows the output needs, unless the height shrinks much more
// than the width; see resizeBilinear).

/// `image` resized to `height` x `width`; returned unchanged when it already has that size
/// (Pillow and Keras skip the resize then).
public func resize(_ image: RGBImage, height: Int, width: Int, interpolation: Interpolation)
  -> RGBImage
{
  precondition(height > 0 && width > 0, "resize: target \(height)x\(width) must be positive")
  if image.width == width && image.height == height { return image }
  precondition(image.width > 0 && image.height > 0, "resize: empty source image")
  switch interpolation {
  case .nearest: return resizeNearest(image, height: height, width: width)
  case .bilinear: return resizeBilinear(image, height: height, width: width)
  }
}

// ---- nearest -------------------------------------------------------------------------------

/// Source index for each of `target` outputs, or -1 where Pillow's walk leaves the source
/// (those pixels stay 0, as in Pillow; it does not happen for plain scaling in practice).
func nearestIndices(source: Int, target: Int) -> [Int] {
  // Pillow's box is float, so the scale is (double)(float)source / target.
  let scale = Double(Float(source)) / Double(target)
  var position = scale * 0.5
  var indices = [Int](repeating: -1, count: target)
  for i in 0..<target {
    let v = position < 0 ? -1 : Int(position)
    indices[i] = v < source ? v : -1
    position += scale
  }
  return indices
}

func resizeNearest(_ image: RGBImage, height: Int, width: Int) -> RGBImage {
  let xs = nearestIndices(source: image.width, target: width)
  let ys = nearestIndices(source: image.height, target: height)
  var out = [UInt8](repeating: 0, count: width * height * 3)  // (height, width, 3)
  image.pixels.withUnsafeBufferPointer { src in
    out.withUnsafeMutableBufferPointer { dst in
      for y in 0..<height where ys[y] >= 0 {
        let srcRow = ys[y] * image.width * 3
        var d = y * width * 3
        for x in 0..<width {
          let sx = xs[x]
          if sx >= 0 {
            let s = srcRow + 3 * sx
            dst[d] = src[s]
            dst[d + 1] = src[s + 1]
            dst[d + 2] = src[s + 2]
          }
          d += 3
        }
      }
    }
  }
  return RGBImage(width: width, height: height, pixels: out)
}

// ---- bilinear (antialiased) -----------------------------------------------------------------

/// Pillow's fixed-point precision for 8-bit resampling: 32 - 8 - 2 bits.
let precisionBits: Int32 = 22

/// Convolution weights for one axis: output i reads `count[i]` inputs from `first[i]` with
/// weights `weights[i * taps ..< i * taps + count[i]]` (fixed point, 22 fractional bits).
struct ResampleCoefficients {
  var taps: Int
  var first: [Int]
  var count: [Int]
  var weights: [Int32]
}

/// The triangle ("bilinear") filter; support 1.
@inline(__always) func triangleFilter(_ x: Double) -> Double {
  let a = x < 0 ? -x : x
  return a < 1 ? 1 - a : 0
}

/// Pillow's precompute_coeffs + normalize_coeffs_8bpc for the whole axis (box 0...inSize).
func bilinearCoefficients(inSize: Int, outSize: Int) -> ResampleCoefficients {
  let support = 1.0
  let scale = Double(Float(inSize)) / Double(outSize)
  let filterScale = max(scale, 1.0)
  let scaledSupport = support * filterScale
  let taps = Int(scaledSupport.rounded(.up)) * 2 + 1
  var first = [Int](repeating: 0, count: outSize)
  var count = [Int](repeating: 0, count: outSize)
  var weights = [Int32](repeating: 0, count: outSize * taps)
  var k = [Double](repeating: 0, count: taps)
  let inverse = 1.0 / filterScale
  for i in 0..<outSize {
    let center = (Double(i) + 0.5) * scale
    // C's (int) truncates toward zero; negative starts are clamped to 0 right after.
    let lo = max(Int(center - scaledSupport + 0.5), 0)
    let hi = min(Int(center + scaledSupport + 0.5), inSize)
    let n = hi - lo
    var total = 0.0
    for j in 0..<n {
      let w = triangleFilter((Double(j + lo) - center + 0.5) * inverse)
      k[j] = w
      total += w
    }
    for j in 0..<n {
      let w = total != 0 ? k[j] / total : k[j]
      let fixed = w * Double(1 << precisionBits)
      weights[i * taps + j] = Int32(w < 0 ? (-0.5 + fixed) : (0.5 + fixed))
    }
    first[i] = lo
    count[i] = n
  }
  return ResampleCoefficients(taps: taps, first: first, count: count, weights: weights)
}

/// Pillow's clip8: drop the fraction and saturate to 0...255.
@inline(__always) func clip8(_ v: Int32) -> UInt8 {
  UInt8(clamping: v >> precisionBits)
}

func resizeBilinear(_ image: RGBImage, height: Int, width: Int) -> RGBImage {
  let (inW, inH) = (image.width, image.height)
  let horizontal = bilinearCoefficients(inSize: inW, outSize: width)
  let vertical = bilinearCoefficients(inSize: inH, outSize: height)
  // Pillow (13.0, ImagingResampleInner) runs the vertical pass first when the height shrinks by more than
  // twice as many pixels as the width does; the uint8 rounding between the passes makes the
  // order visible in the output, so we follow the same rule.
  let horizontalFirst = !(inH - height > 0 && inH - height > (inW - width) * 2)
  if horizontalFirst {
    // Only source rows firstRow..<lastRow feed the output (matters when shrinking).
    let firstRow = vertical.first[0]
    let lastRow = vertical.first[height - 1] + vertical.count[height - 1]
    var rows = image.pixels  // (rows, width', 3) after the horizontal pass
    var rowOffset = 0
    if width != inW {
      rows = horizontalPass(
        image.pixels, inWidth: inW, rows: firstRow..<lastRow,
        coefficients: horizontal, outWidth: width)
      rowOffset = firstRow
    }
    if height == inH { return RGBImage(width: width, height: height, pixels: rows) }
    let out = verticalPass(
      rows, rowOffset: rowOffset, rowWidth: width,
      coefficients: vertical, outHeight: height)
    return RGBImage(width: width, height: height, pixels: out)
  }
  let rows = verticalPass(
    image.pixels, rowOffset: 0, rowWidth: inW, coefficients: vertical,
    outHeight: height)  // (height, inW, 3)
  if width == inW { return RGBImage(width: width, height: height, pixels: rows) }
  let out = horizontalPass(
    rows, inWidth: inW, rows: 0..<height, coefficients: horizontal,
    outWidth: width)
  return RGBImage(width: width, height: height, pixels: out)
}

/// Rows `rows` of src (_, inWidth, 3) -> (rows.count, outWidth, 3), rounded and clipped.
func horizontalPass(
  _ src: [UInt8], inWidth: Int, rows: Range<Int>,
  coefficients c: ResampleCoefficients, outWidth: Int
) -> [UInt8] {
  var out = [UInt8](repeating: 0, count: rows.count * outWidth * 3)
  let half: Int32 = 1 << (precisionBits - 1)
  src.withUnsafeBufferPointer { s in
    out.withUnsafeMutableBufferPointer { d in
      c.weights.withUnsafeBufferPointer { k in
        c.first.withUnsafeBufferPointer { first in
          c.count.withUnsafeBufferPointer { count in
            for (r, y) in rows.enumerated() {
              let inRow = s.baseAddress! + y * inWidth * 3
              var o = r * outWidth * 3
              for x in 0..<outWidth {
                var s0 = half
                var s1 = half
                var s2 = half
                var p = inRow + 3 * first[x]
                var w = k.baseAddress! + x * c.taps
                for _ in 0..<count[x] {
                  s0 &+= Int32(p[0]) &* w.pointee
                  s1 &+= Int32(p[1]) &* w.pointee
                  s2 &+= Int32(p[2]) &* w.pointee
                  p += 3
                  w += 1
                }
                d[o] = clip8(s0)
                d[o + 1] = clip8(s1)
                d[o + 2] = clip8(s2)
                o += 3
              }
            }
          }
        }
      }
    }
  }
  return out
}

/// src rows (first row is source row `rowOffset`) of (_, rowWidth, 3) -> (outHeight, rowWidth, 3).
/// Accumulates whole rows at a time so the inner loop runs over contiguous bytes.
func verticalPass(
  _ src: [UInt8], rowOffset: Int, rowWidth: Int,
  coefficients c: ResampleCoefficients, outHeight: Int
) -> [UInt8] {
  let n = rowWidth * 3
  var out = [UInt8](repeating: 0, count: outHeight * n)
  var acc = [Int32](repeating: 0, count: n)
  let half: Int32 = 1 << (precisionBits - 1)
  src.withUnsafeBufferPointer { s in
    out.withUnsafeMutableBufferPointer { d in
      acc.withUnsafeMutableBufferPointer { a in
        for y in 0..<outHeight {
          for i in 0..<n { a[i] = half }
          for j in 0..<c.count[y] {
            let w = c.weights[y * c.taps + j]
            let row = s.baseAddress! + (c.first[y] + j - rowOffset) * n
            for i in 0..<n { a[i] &+= Int32(row[i]) &* w }
          }
          let o = d.baseAddress! + y * n
          for i in 0..<n { o[i] = clip8(a[i]) }
        }
      }
    }
  }
  return out
}
