// Max pooling and global average pooling, forward, NHWC: fast and naive side by side.
//
// Max pooling takes explicit padding with a pad value: Keras' ZeroPadding2D followed by a
// 'valid' MaxPooling2D (ResNet's pool1_pad + pool1_pool) pads with 0, so the value matters
// in principle (after a ReLU it cannot change the result, but the kernel does not rely on
// that). Use -infinity to get MaxPooling2D padding='same' semantics.

/// output (N, OH, OW, C) = max over each window of input (N, H, W, C).
public func maxPool2dForward(
  _ output: UnsafeMutableBufferPointer<Float>,
  _ input: UnsafeBufferPointer<Float>,
  batch: Int, height: Int, width: Int, channels c: Int,
  window: Window2D, padValue: Float = 0
) {
  let oh = window.outputHeight(height)
  let ow = window.outputWidth(width)
  precondition(oh > 0 && ow > 0, "maxPool2dForward: empty output")
  precondition(input.count >= batch * height * width * c && output.count >= batch * oh * ow * c)
  let src = input.baseAddress!
  var dst = output.baseAddress!
  let pt = window.padding.top
  let pl = window.padding.left
  for n in 0..<batch {
    let image = src + n * height * width * c
    for oy in 0..<oh {
      let y0 = oy * window.strideHeight - pt
      let ya = max(y0, 0)
      let yb = min(y0 + window.height, height)
      for ox in 0..<ow {
        let x0 = ox * window.strideWidth - pl
        let xa = max(x0, 0)
        let xb = min(x0 + window.width, width)
        let clipped = ya != y0 || xa != x0 || yb != y0 + window.height || xb != x0 + window.width
        // Start from the first real pixel, or from the pad value when the window hangs over
        // the padding.
        if clipped {
          dst.update(repeating: padValue, count: c)
        } else {
          dst.update(from: image + (ya * width + xa) * c, count: c)
        }
        for y in ya..<yb {
          for x in xa..<xb {
            let p = image + (y * width + x) * c
            for j in 0..<c { dst[j] = max(dst[j], p[j]) }
          }
        }
        dst += c
      }
    }
  }
}

/// Reference max pooling: every window position, padding read as `padValue`.
public func maxPool2dForwardNaive(
  _ output: UnsafeMutableBufferPointer<Float>,
  _ input: UnsafeBufferPointer<Float>,
  batch: Int, height: Int, width: Int, channels c: Int,
  window: Window2D, padValue: Float = 0
) {
  let oh = window.outputHeight(height)
  let ow = window.outputWidth(width)
  for n in 0..<batch {
    for oy in 0..<oh {
      for ox in 0..<ow {
        for j in 0..<c {
          var m = -Float.infinity
          for ky in 0..<window.height {
            for kx in 0..<window.width {
              let y = oy * window.strideHeight - window.padding.top + ky
              let x = ox * window.strideWidth - window.padding.left + kx
              let v =
                (y < 0 || y >= height || x < 0 || x >= width)
                ? padValue : input[((n * height + y) * width + x) * c + j]
              m = max(m, v)
            }
          }
          output[((n * oh + oy) * ow + ox) * c + j] = m
        }
      }
    }
  }
}

/// output (N, C) = mean over H and W of input (N, H, W, C), like Keras GlobalAveragePooling2D
/// (sum, then divide by H * W). Sums in float32 vectors across positions, one per channel.
public func globalAveragePool(
  _ output: UnsafeMutableBufferPointer<Float>,
  _ input: UnsafeBufferPointer<Float>,
  batch: Int, height: Int, width: Int, channels c: Int
) {
  let positions = height * width
  precondition(input.count >= batch * positions * c && output.count >= batch * c)
  let src = input.baseAddress!
  let dst = output.baseAddress!
  let count = Float(positions)
  for n in 0..<batch {
    let o = dst + n * c
    o.update(repeating: 0, count: c)
    var p = src + n * positions * c
    for _ in 0..<positions {
      for j in 0..<c { o[j] += p[j] }
      p += c
    }
    for j in 0..<c { o[j] /= count }
  }
}

/// Reference global average pooling, float64 accumulation.
public func globalAveragePoolNaive(
  _ output: UnsafeMutableBufferPointer<Float>,
  _ input: UnsafeBufferPointer<Float>,
  batch: Int, height: Int, width: Int, channels c: Int
) {
  for n in 0..<batch {
    for j in 0..<c {
      var s = 0.0
      for p in 0..<(height * width) { s += Double(input[(n * height * width + p) * c + j]) }
      output[n * c + j] = Float(s / Double(height * width))
    }
  }
}
