// Bilinear resampling with scipy.ndimage's boundary rules (affine_transform, order=1), applied
// the way Keras applies it: every channel through the same map, then the flips.
//
// Images are (H, W, C) float32, channels last, contiguous. scipy works in Float64: the
// coordinate, the per-axis weights and the four-term sum are doubles, rounded to float32 once
// when stored; the kernels below do the same operations in the same order, so the results
// agree with Keras to the last bit unless a coordinate sits exactly on a mode's boundary.
// scipy's order-1 rules (scipy 1.17, pinned down against it on random maps in float64):
//   * the coordinate is (shift + r * a_0) + c * a_1, see `SamplingMap`;
//   * reflect, wrap and constant first fold it into range (`foldCoordinate`, scipy's
//     `map_coordinate`); a result <= -1 means "outside" and yields cval (only `.constant`
//     produces it, for anything outside [0, side - 1]). 'nearest' does not fold: the weights
//     come from the raw coordinate and both taps are clamped to the edge;
//   * start = floor(cc), t = cc - start, weights (1 - t, 1 - (1 - t)) (scipy sets the last
//     weight to one minus the others);
//   * taps past the edge (start < 0 or start + 1 >= side) read the edge pixel: for reflect
//     that is the half-sample mirror, for wrap and constant the weight there is 0;
//   * the sum runs over taps (0,0), (0,1), (1,0), (1,1), each value * row weight * column
//     weight, from 0.0.

import Foundation

/// scipy's `map_coordinate` for the four modes Keras offers: where coordinate `x` along a side
/// of `n` pixels reads, or -1 for "use cval". 'nearest' is left alone (its taps are clamped).
/// Coordinates beyond 2^52 (only from absurd parameters) count as outside rather than trap.
@inline(__always)
func foldCoordinate(_ x: Double, _ n: Int, _ mode: FillMode) -> Double {
  if !(abs(x) < 0x1p52) { return mode == .nearest ? (x < 0 ? -2 : Double(n) + 1) : -1 }
  if x < 0 {
    switch mode {
    case .nearest: return x
    case .constant: return -1
    case .reflect:
      if n <= 1 { return 0 }
      let period = 2 * n
      var y = x
      if y < -Double(period) { y = Double(period * Int(-y / Double(period))) + y }
      return y < -Double(n) ? y + Double(period) : -y - 1
    case .wrap:
      if n <= 1 { return 0 }
      let period = n - 1
      return x + Double(period * (Int(-x / Double(period)) + 1))
    }
  } else if x > Double(n - 1) {
    switch mode {
    case .nearest: return x
    case .constant: return -1
    case .reflect:
      if n <= 1 { return 0 }
      let period = 2 * n
      let y = x - Double(period * Int(x / Double(period)))
      return y >= Double(n) ? Double(period) - y - 1 : y
    case .wrap:
      if n <= 1 { return 0 }
      let period = n - 1
      return x - Double(period * Int(x / Double(period)))
    }
  }
  return x
}

/// One axis of a bilinear sample: the two pixel indices (already clamped to the image) and
/// their weights; `outside` when the sample is cval.
struct AxisSample {
  var i0: Int, i1: Int
  var w0: Double, w1: Double
  var outside: Bool

  @inline(__always)
  init(_ x: Double, _ n: Int, _ mode: FillMode) {
    let cc = foldCoordinate(x, n, mode)
    if mode != .nearest && !(cc > -1) {
      (i0, i1, w0, w1, outside) = (0, 0, 0, 0, true)
      return
    }
    let f = cc.rounded(.down)
    w0 = 1 - (cc - f)
    w1 = 1 - w0
    // Far outside ('nearest' only) both taps are the edge pixel; the clamp keeps Int() in range.
    let start = f < -1 ? -1 : (f > Double(n) ? n : Int(f))
    i0 = min(max(start, 0), n - 1)
    i1 = min(max(start + 1, 0), n - 1)
    outside = false
  }
}

extension AugmentationTransform {
  /// Keras' `apply_transform` for the geometric parameters: resamples `image` (H, W, C) and
  /// returns the result (H, W, C). `fillMode` and `cval` are the generator's settings.
  public func apply(
    to image: [Float], height: Int, width: Int, channels: Int, fillMode: FillMode = .nearest, cval: Double = 0
  ) -> [Float] {
    precondition(image.count == height * width * channels, "image is not (H, W, C)")
    return [Float](unsafeUninitializedCapacity: image.count) { out, count in
      image.withUnsafeBufferPointer { input in
        apply(input, into: out, height: height, width: width, channels: channels, fillMode: fillMode, cval: cval)
      }
      count = image.count
    }
  }

  /// The same into a caller's buffer (no allocation): `input` and `output` are (H, W, C) and
  /// must not overlap.
  public func apply(
    _ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>, height: Int, width: Int,
    channels: Int, fillMode: FillMode = .nearest, cval: Double = 0
  ) {
    let (h, w, ch) = (height, width, channels)
    precondition(h > 0 && w > 0 && ch > 0 && input.count == h * w * ch && output.count == input.count)
    let src = input.baseAddress!
    let dst = output.baseAddress!
    guard let map = samplingMap(height: h, width: w) else {
      for r in 0..<h {
        for c in 0..<w {
          let target = dst + ((flipVertical ? h - 1 - r : r) * w + (flipHorizontal ? w - 1 - c : c)) * ch
          target.update(from: src + (r * w + c) * ch, count: ch)
        }
      }
      return
    }
    let fill = Float(cval)
    let lastRow = Double(h - 1)
    let lastColumn = Double(w - 1)
    // c * a01 and c * a11 for every column and shift + r * a_0 for every row: the same
    // products and sums scipy forms, computed once.
    withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * w) { columnTerms in
      for c in 0..<w {
        columnTerms[2 * c] = Double(c) * map.a01
        columnTerms[2 * c + 1] = Double(c) * map.a11
      }
      // The flips only choose where an output pixel lands: walk each output row forwards or
      // backwards.
      let step = flipHorizontal ? -ch : ch
      for r in 0..<h {
        let rowTerm0 = map.offsetRow + Double(r) * map.a00
        let rowTerm1 = map.offsetColumn + Double(r) * map.a10
        var out = dst + (flipVertical ? h - 1 - r : r) * w * ch + (flipHorizontal ? (w - 1) * ch : 0)
        for c in 0..<w {
          defer { out += step }
          let sy = rowTerm0 + columnTerms[2 * c]
          let sx = rowTerm1 + columnTerms[2 * c + 1]
          // Most samples fall strictly inside: no mode applies, floor is truncation and the
          // taps are neighbours. The weights are formed exactly as `AxisSample` forms them.
          if sy >= 0 && sy < lastRow && sx >= 0 && sx < lastColumn {
            let iy = Int(sy)
            let ix = Int(sx)
            let wy0 = 1 - (sy - Double(iy))
            let wx0 = 1 - (sx - Double(ix))
            let p00 = src + (iy * w + ix) * ch
            blend(
              out, p00, p00 + ch, p00 + w * ch, p00 + w * ch + ch, wy0, 1 - wy0, wx0, 1 - wx0, channels: ch)
            continue
          }
          let y = AxisSample(sy, h, fillMode)
          let x = AxisSample(sx, w, fillMode)
          if y.outside || x.outside {
            for k in 0..<ch { out[k] = fill }
            continue
          }
          blend(
            out, src + (y.i0 * w + x.i0) * ch, src + (y.i0 * w + x.i1) * ch, src + (y.i1 * w + x.i0) * ch,
            src + (y.i1 * w + x.i1) * ch, y.w0, y.w1, x.w0, x.w1, channels: ch)
        }
      }
    }
  }

  /// The naive reference, a direct transcription of Keras' steps: each channel resampled on its
  /// own, pixel by pixel from the map, then the horizontal flip, then the vertical one.
  /// (H, W, C) in and out.
  public func applyReference(
    to image: [Float], height h: Int, width w: Int, channels ch: Int, fillMode: FillMode = .nearest,
    cval: Double = 0
  ) -> [Float] {
    precondition(image.count == h * w * ch, "image is not (H, W, C)")
    var x = image
    if let map = samplingMap(height: h, width: w) {
      for k in 0..<ch {
        for r in 0..<h {
          for c in 0..<w {
            let (sr, sc) = map.source(row: r, column: c)
            let ry = AxisSample(sr, h, fillMode)
            let cx = AxisSample(sc, w, fillMode)
            var t = cval
            if !ry.outside && !cx.outside {
              t = 0
              for (i, wi) in [(ry.i0, ry.w0), (ry.i1, ry.w1)] {
                for (j, wj) in [(cx.i0, cx.w0), (cx.i1, cx.w1)] {
                  t += Double(image[(i * w + j) * ch + k]) * wi * wj
                }
              }
            }
            x[(r * w + c) * ch + k] = Float(t)
          }
        }
      }
    }
    if flipHorizontal { x = flip(x, rows: h, columns: w, channels: ch, horizontally: true) }
    if flipVertical { x = flip(x, rows: h, columns: w, channels: ch, horizontally: false) }
    return x
  }
}

/// One output pixel (C values) from its four taps, in scipy's order: taps (0,0), (0,1),
/// (1,0), (1,1), each value * row weight * column weight, summed in Float64 from the first.
@inline(__always)
private func blend(
  _ out: UnsafeMutablePointer<Float>, _ p00: UnsafePointer<Float>, _ p01: UnsafePointer<Float>,
  _ p10: UnsafePointer<Float>, _ p11: UnsafePointer<Float>, _ wy0: Double, _ wy1: Double, _ wx0: Double,
  _ wx1: Double, channels: Int
) {
  @inline(__always) func one(_ k: Int) {
    var t = Double(p00[k]) * wy0 * wx0
    t += Double(p01[k]) * wy0 * wx1
    t += Double(p10[k]) * wy1 * wx0
    t += Double(p11[k]) * wy1 * wx1
    out[k] = Float(t)
  }
  if channels == 3 {  // RGB, unrolled
    one(0)
    one(1)
    one(2)
  } else {
    for k in 0..<channels { one(k) }
  }
}

/// Keras' `flip_axis` on (H, W, C): reverse the columns or the rows.
private func flip(_ x: [Float], rows h: Int, columns w: Int, channels ch: Int, horizontally: Bool) -> [Float] {
  var y = x
  for r in 0..<h {
    for c in 0..<w {
      let (sr, sc) = horizontally ? (r, w - 1 - c) : (h - 1 - r, c)
      for k in 0..<ch { y[(r * w + c) * ch + k] = x[(sr * w + sc) * ch + k] }
    }
  }
  return y
}
