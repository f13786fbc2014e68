// Max pooling and global average pooling, forward and backward (below), NHWC: fast and naive
// side by side.
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

// MARK: - Backward
//
// Max pooling and global average pooling, backward, NHWC: fast and naive side by side.
//
// Max pooling routes each window's gradient to ONE input: the first maximum in the window's
// scan order (rows top to bottom, each row left to right), as TensorFlow's CPU MaxPoolGrad
// does (it recomputes the argmax, replacing the running maximum only on a strictly greater
// value); Tests/Fixtures/keras_backward checks a window full of ties against TF. Padding
// positions take part in that scan with `padValue`, exactly as in the forward: with
// ZeroPadding2D + 'valid' pooling (ResNet's pool1) a padding zero can be the first maximum,
// and its gradient then belongs to the padding, i.e. is dropped here as the crop in
// ZeroPadding2D's backward would drop it. With -infinity ('same' pooling) padding never wins.
//
// Backward passes ACCUMULATE (+=) into dInput.

/// dInput (N, H, W, C) += dOutput (N, OH, OW, C) routed to each window's first maximum of
/// input (N, H, W, C) (padding reads as `padValue`). Same arguments as `maxPool2dForward`.
public func maxPool2dBackward(
  _ dInput: UnsafeMutableBufferPointer<Float>,
  _ dOutput: UnsafeBufferPointer<Float>,
  input: UnsafeBufferPointer<Float>,
  batch: Int, height: Int, width: Int, channels c: Int,
  window: Window2D, padValue: Float = 0
) {
  let oh = window.outputHeight(height)
  let ow = window.outputWidth(width)
  precondition(oh > 0 && ow > 0, "maxPool2dBackward: empty output")
  precondition(input.count >= batch * height * width * c && dInput.count >= batch * height * width * c)
  precondition(dOutput.count >= batch * oh * ow * c, "maxPool2dBackward: dOutput too small")
  // Per channel: the running maximum and its pixel offset in the image (-1: padding).
  let best = UnsafeMutablePointer<Float>.allocate(capacity: c)
  let argmax = UnsafeMutablePointer<Int>.allocate(capacity: c)
  defer {
    best.deallocate()
    argmax.deallocate()
  }
  let src = input.baseAddress!
  let dst = dInput.baseAddress!
  var g = dOutput.baseAddress!
  for n in 0..<batch {
    let image = src + n * height * width * c
    let dImage = dst + n * height * width * c
    for oy in 0..<oh {
      let y0 = oy * window.strideHeight - window.padding.top
      for ox in 0..<ow {
        let x0 = ox * window.strideWidth - window.padding.left
        var first = true
        for y in y0..<(y0 + window.height) {
          for x in x0..<(x0 + window.width) {
            let inside = y >= 0 && y < height && x >= 0 && x < width
            let offset = inside ? (y * width + x) * c : -1
            if first {
              if inside {
                best.update(from: image + offset, count: c)
              } else {
                best.update(repeating: padValue, count: c)
              }
              argmax.update(repeating: offset, count: c)
              first = false
            } else if inside {
              let p = image + offset
              for j in 0..<c where p[j] > best[j] {
                best[j] = p[j]
                argmax[j] = offset
              }
            } else {
              for j in 0..<c where padValue > best[j] {
                best[j] = padValue
                argmax[j] = -1
              }
            }
          }
        }
        for j in 0..<c where argmax[j] >= 0 { dImage[argmax[j] + j] += g[j] }
        g += c
      }
    }
  }
}

/// Reference max pooling backward: one (image, window, channel) at a time, the window scanned
/// in row-major order, the first strictly greater value taking the gradient.
public func maxPool2dBackwardNaive(
  _ dInput: UnsafeMutableBufferPointer<Float>,
  _ dOutput: UnsafeBufferPointer<Float>,
  input: UnsafeBufferPointer<Float>,
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
          var at: Int? = nil
          var seen = false
          for ky in 0..<window.height {
            for kx in 0..<window.width {
              let y = oy * window.strideHeight - window.padding.top + ky
              let x = ox * window.strideWidth - window.padding.left + kx
              let inside = y >= 0 && y < height && x >= 0 && x < width
              let index = ((n * height + y) * width + x) * c + j
              let v = inside ? input[index] : padValue
              if !seen || v > m {
                m = v
                at = inside ? index : nil
                seen = true
              }
            }
          }
          if let at { dInput[at] += dOutput[((n * oh + oy) * ow + ox) * c + j] }
        }
      }
    }
  }
}

/// dInput (N, H, W, C) += dOutput (N, C) / (H * W): the adjoint of `globalAveragePool`.
public func globalAveragePoolBackward(
  _ dInput: UnsafeMutableBufferPointer<Float>,
  _ dOutput: UnsafeBufferPointer<Float>,
  batch: Int, height: Int, width: Int, channels c: Int
) {
  let positions = height * width
  precondition(dInput.count >= batch * positions * c && dOutput.count >= batch * c)
  let scale = 1 / Float(positions)
  var d = dInput.baseAddress!
  for n in 0..<batch {
    let g = dOutput.baseAddress! + n * c
    for _ in 0..<positions {
      for j in 0..<c { d[j] += g[j] * scale }
      d += c
    }
  }
}
