// 2-D convolution, forward, inference: fast (im2col + one GEMM per chunk of images) and a
// naive reference beside it.
//
// input (N, H, W, Cin) NHWC, kernel (KH, KW, Cin, Cout) HWIO as Keras stores it, bias (Cout),
// output (N, OH, OW, Cout). Padding is explicit (top/bottom/left/right zeros), so Keras
// 'same', 'valid' and ZeroPadding2D + 'valid' are all one code path.
//
// The GEMM is output (rows, Cout) = columns (rows, KH*KW*Cin) x kernel (KH*KW*Cin, Cout):
// the HWIO kernel is already that right-hand matrix and the NHWC output is already that
// product, so nothing is transposed or copied out. A 1x1 stride-1 unpadded convolution skips
// im2col entirely (the input is the column matrix); a strided 1x1 only subsamples.

/// The nonlinearity applied in a kernel's epilogue.
public enum Activation: Sendable {
  case identity
  case relu
}

extension ConvShape {
  /// Whether the fast path needs the im2col scratch: everything but the unpadded 1x1
  /// stride-1 convolution, whose input already is the column matrix.
  public var needsColumns: Bool {
    !(window.height == 1 && window.width == 1 && window.strideHeight == 1
      && window.strideWidth == 1 && window.padding == .zero)
  }
}

/// output = activation(conv(input, kernel) + bias + residual), the fast path.
///
/// `scratch` holds the column matrix of as many images at a time as fit (at least one image,
/// `shape.columnsPerImage` floats, when `shape.needsColumns`). `residual`, if given, is
/// (N, OH, OW, Cout) and is added before the activation (a ResNet block's shortcut).
/// Parallelism comes from BLAS only.
public func conv2dForward(
  _ output: UnsafeMutableBufferPointer<Float>,
  _ input: UnsafeBufferPointer<Float>,
  kernel: UnsafeBufferPointer<Float>,
  bias: UnsafeBufferPointer<Float>?,
  shape: ConvShape,
  residual: UnsafeBufferPointer<Float>? = nil,
  activation: Activation = .identity,
  scratch: UnsafeMutableBufferPointer<Float>
) {
  let s = shape
  let oh = s.outputHeight, ow = s.outputWidth, cout = s.outChannels
  precondition(oh > 0 && ow > 0, "conv2dForward: empty output for \(s)")
  precondition(input.count >= s.inputCount, "conv2dForward: input too small")
  precondition(output.count >= s.outputCount, "conv2dForward: output too small")
  precondition(kernel.count == s.kernelCount, "conv2dForward: kernel has \(kernel.count) != \(s.kernelCount)")
  precondition(bias == nil || bias!.count == cout, "conv2dForward: bias length")
  precondition(residual == nil || residual!.count >= s.outputCount, "conv2dForward: residual too small")
  let out = output.baseAddress!
  let w = kernel.baseAddress!
  let b = bias?.baseAddress
  let r = residual?.baseAddress
  let rowsPerImage = oh * ow
  let k = s.patchSize

  if !s.needsColumns {
    let rows = s.batch * rowsPerImage
    gemm(out, input.baseAddress!, w, m: rows, n: cout, k: k)
    biasResidualActivation(out, rows: rows, channels: cout, bias: b, residual: r, activation: activation)
    return
  }

  let perImage = s.columnsPerImage
  precondition(scratch.count >= perImage, "conv2dForward: scratch \(scratch.count) < one image's columns \(perImage)")
  let chunk = min(s.batch, scratch.count / perImage)
  let imageIn = s.height * s.width * s.inChannels
  let imageOut = rowsPerImage * cout
  let isStrided1x1 = s.window.height == 1 && s.window.width == 1 && s.window.padding == .zero
  var n0 = 0
  while n0 < s.batch {
    let count = min(chunk, s.batch - n0)
    let sub = s.with(batch: count)
    let src = UnsafeBufferPointer(rebasing: input[(n0 * imageIn)..<((n0 + count) * imageIn)])
    if isStrided1x1 {
      subsample(scratch, src, shape: sub)
    } else {
      im2col(scratch, src, shape: sub)
    }
    let dst = out + n0 * imageOut
    let rows = count * rowsPerImage
    gemm(dst, scratch.baseAddress!, w, m: rows, n: cout, k: k)
    biasResidualActivation(
      dst, rows: rows, channels: cout, bias: b, residual: r.map { $0 + n0 * imageOut },
      activation: activation)
    n0 += count
  }
}

/// im2col for an unpadded 1x1 window with stride: picks every stride-th pixel.
/// columns (N * OH * OW, C).
func subsample(_ columns: UnsafeMutableBufferPointer<Float>, _ input: UnsafeBufferPointer<Float>, shape: ConvShape) {
  let s = shape
  let h = s.height, w = s.width, c = s.inChannels
  let sh = s.window.strideHeight, sw = s.window.strideWidth
  let oh = s.outputHeight, ow = s.outputWidth
  let src = input.baseAddress!
  var dst = columns.baseAddress!
  for n in 0..<s.batch {
    for oy in 0..<oh {
      var p = src + ((n * h + oy * sh) * w) * c
      for _ in 0..<ow {
        dst.update(from: p, count: c)
        dst += c
        p += sw * c
      }
    }
  }
}

/// The epilogue fused after a GEMM: x (rows, C) = activation(x + bias + residual), one pass.
@inline(__always)
func biasResidualActivation(
  _ x: UnsafeMutablePointer<Float>, rows: Int, channels c: Int,
  bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, activation: Activation
) {
  let relu = activation == .relu
  for row in 0..<rows {
    let o = x + row * c
    switch (bias, residual) {
    case let (b?, r?):
      let rr = r + row * c
      if relu { for j in 0..<c { o[j] = max(o[j] + b[j] + rr[j], 0) } } else { for j in 0..<c { o[j] = o[j] + b[j] + rr[j] } }
    case let (b?, nil):
      if relu { for j in 0..<c { o[j] = max(o[j] + b[j], 0) } } else { for j in 0..<c { o[j] += b[j] } }
    case let (nil, r?):
      let rr = r + row * c
      if relu { for j in 0..<c { o[j] = max(o[j] + rr[j], 0) } } else { for j in 0..<c { o[j] += rr[j] } }
    case (nil, nil):
      if relu { for j in 0..<c { o[j] = max(o[j], 0) } }
    }
  }
}

/// Reference convolution: the definition, seven loops, float64 accumulation, bias added, no
/// activation. Same layouts and shapes as `conv2dForward`.
public func conv2dForwardNaive(
  _ output: UnsafeMutableBufferPointer<Float>,
  _ input: UnsafeBufferPointer<Float>,
  kernel: UnsafeBufferPointer<Float>,
  bias: UnsafeBufferPointer<Float>?,
  shape: ConvShape
) {
  let s = shape
  let oh = s.outputHeight, ow = s.outputWidth
  let cin = s.inChannels, cout = s.outChannels
  precondition(input.count >= s.inputCount && output.count >= s.outputCount && kernel.count == s.kernelCount)
  let acc = UnsafeMutablePointer<Double>.allocate(capacity: cout)
  defer { acc.deallocate() }
  let x = input.baseAddress!, w = kernel.baseAddress!
  for n in 0..<s.batch {
    for oy in 0..<oh {
      for ox in 0..<ow {
        for o in 0..<cout { acc[o] = Double(bias?[o] ?? 0) }
        for ky in 0..<s.window.height {
          let iy = oy * s.window.strideHeight - s.window.padding.top + ky
          if iy < 0 || iy >= s.height { continue }
          for kx in 0..<s.window.width {
            let ix = ox * s.window.strideWidth - s.window.padding.left + kx
            if ix < 0 || ix >= s.width { continue }
            for i in 0..<cin {
              let v = Double(x[((n * s.height + iy) * s.width + ix) * cin + i])
              let kbase = ((ky * s.window.width + kx) * cin + i) * cout
              for o in 0..<cout { acc[o] += v * Double(w[kbase + o]) }
            }
          }
        }
        let obase = ((n * oh + oy) * ow + ox) * cout
        for o in 0..<cout { output[obase + o] = Float(acc[o]) }
      }
    }
  }
}
