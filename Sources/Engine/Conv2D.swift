// 2-D convolution, forward (inference) and backward (below): fast (im2col + GEMMs) and a
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

/// Rows of the output (N * OH * OW) the fast path multiplies at a time: enough for an
/// efficient two-thread GEMM, few enough that the block's columns and output stay in the
/// last-level cache for the epilogue (about 512K floats of the wider of the two; measured on
/// ResNet50, 128K to 1M floats are within noise of each other, 32K is ~5% slower).
public func conv2dRowBlock(_ shape: ConvShape) -> Int {
  let rows = shape.batch * shape.outputHeight * shape.outputWidth
  return min(rows, max(64, (1 << 19) / max(shape.patchSize, shape.outChannels)))
}

/// Scratch floats `conv2dForward` uses for `shape` (0 when it needs no column matrix; what
/// Winograd forms for a 3x3 stride-1 window).
public func conv2dScratchCount(_ shape: ConvShape) -> Int {
  if winogradApplies(shape) { return winogradTrainingScratchCount(shape) }
  return shape.needsColumns ? conv2dRowBlock(shape) * shape.patchSize : 0
}

/// output = activation(conv(input, kernel) + bias + residual), the fast path.
///
/// A 3x3 stride-1 window runs through Winograd F(2x2, 3x3) (WinogradTraining.swift) when
/// `scratch` holds `conv2dScratchCount(shape)` floats. Otherwise it works through the output in
/// blocks of rows (`conv2dRowBlock`): unfold the block's
/// columns into `scratch` (unless the input already is the column matrix), one GEMM, then the
/// fused epilogue while the block is still in cache. `scratch` must hold at least one row of
/// columns (`shape.patchSize` floats) when `shape.needsColumns`; `conv2dScratchCount(shape)`
/// gives full-size blocks. `residual`, if given, is (N, OH, OW, Cout) and is added before
/// the activation (a ResNet block's shortcut). Parallelism comes from BLAS only.
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
  let oh = s.outputHeight
  let ow = s.outputWidth
  let cout = s.outChannels
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
  let k = s.patchSize
  let rows = s.batch * oh * ow
  var block = conv2dRowBlock(s)
  if s.needsColumns {
    precondition(scratch.count >= k, "conv2dForward: scratch \(scratch.count) < one row of columns \(k)")
    block = min(block, scratch.count / k)
  }
  if let plan = WinogradTrainingPlan(s, scratch: scratch.count) {
    winogradConv2dForward(
      out, input.baseAddress!, kernel: w, bias: b, residual: r, activation: activation, plan: plan,
      scratch: scratch.baseAddress!)
    return
  }
  let isStrided1x1 = s.window.height == 1 && s.window.width == 1 && s.window.padding == .zero
  var r0 = 0
  while r0 < rows {
    let r1 = min(rows, r0 + block)
    let a: UnsafePointer<Float>
    if !s.needsColumns {
      a = input.baseAddress! + r0 * k
    } else {
      if isStrided1x1 {
        subsample(scratch, input, shape: s, rows: r0..<r1)
      } else {
        im2col(scratch, input, shape: s, rows: r0..<r1)
      }
      a = UnsafePointer(scratch.baseAddress!)
    }
    gemm(out + r0 * cout, a, w, m: r1 - r0, n: cout, k: k)
    biasResidualActivation(
      out + r0 * cout, rows: r1 - r0, channels: cout, bias: b, residual: r.map { $0 + r0 * cout },
      activation: activation)
    r0 = r1
  }
}

/// im2col for an unpadded 1x1 window with stride: picks every stride-th pixel, for output
/// rows `rows`. columns (rows.count, C).
func subsample(
  _ columns: UnsafeMutableBufferPointer<Float>, _ input: UnsafeBufferPointer<Float>, shape: ConvShape,
  rows: Range<Int>
) {
  let g = PatchGeometry(shape)
  let c = g.c
  let src = input.baseAddress!
  var dst = columns.baseAddress!
  for row in rows {
    let (n, oy, ox) = g.position(ofRow: row)
    dst.update(from: src + ((n * g.h + oy * g.sh) * g.w + ox * g.sw) * c, count: c)
    dst += c
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
    case (let b?, let r?):
      let rr = r + row * c
      if relu {
        for j in 0..<c { o[j] = max(o[j] + b[j] + rr[j], 0) }
      } else {
        for j in 0..<c { o[j] = o[j] + b[j] + rr[j] }
      }
    case (let b?, nil):
      if relu { for j in 0..<c { o[j] = max(o[j] + b[j], 0) } } else { for j in 0..<c { o[j] += b[j] } }
    case (nil, let r?):
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
  let oh = s.outputHeight
  let ow = s.outputWidth
  let cin = s.inChannels
  let cout = s.outChannels
  precondition(input.count >= s.inputCount && output.count >= s.outputCount && kernel.count == s.kernelCount)
  let acc = UnsafeMutablePointer<Double>.allocate(capacity: cout)
  defer { acc.deallocate() }
  let x = input.baseAddress!
  let w = kernel.baseAddress!
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

// MARK: - Backward
//
// 2-D convolution, backward: fast (im2col + transposed GEMMs + col2im, a block of output rows
// at a time) and a naive reference beside it.
//
// Same layouts as the forward (Conv2D.swift): input (N, H, W, Cin) NHWC, kernel
// (KH, KW, Cin, Cout) HWIO, bias (Cout), output gradient dOutput (N, OH, OW, Cout), padding
// explicit, so Keras 'same', 'valid' and ZeroPadding2D + 'valid' share this code too.
//
// With columns X (rows, K) = im2col(input) and the kernel as W (K, Cout), the forward is
// Y = X W + b, so
//   dW (K, Cout)    += X^T dY        one GEMM per row block, accumulating (beta 1)
//   db (Cout)       += sum over rows of dY
//   dX (rows, K)     = dY W^T        one GEMM per row block, then col2im adds it into dInput
// Gradients ACCUMULATE (+=), like every backward in the engine: the caller zeroes them once
// per step, and a tensor feeding two layers (a ResNet block input feeds conv1 and the
// shortcut) collects both contributions in place.

/// Scratch floats `conv2dBackward` uses for `shape`: one block of columns, as the forward.
public func conv2dBackwardScratchCount(_ shape: ConvShape) -> Int { conv2dScratchCount(shape) }

/// Accumulates the gradients of `conv2dForward` (without its fused residual/activation;
/// chain `reluBackward` first) from `dOutput` (N, OH, OW, Cout):
/// dKernel (KH, KW, Cin, Cout) += im2col(input)^T dOutput, dBias (Cout) += column sums of
/// dOutput, dInput (N, H, W, Cin) += col2im(dOutput kernel^T).
///
/// `dInput` may be nil when the input is not trained through (the first unfrozen layer reads
/// a frozen activation), which skips half the work; `dBias` is nil for a convolution without
/// bias. `scratch` must hold at least one row of columns (`shape.patchSize` floats) when
/// `shape.needsColumns`; `conv2dBackwardScratchCount(shape)` gives full-size blocks, and for a
/// 3x3 stride-1 window what Winograd needs (used when given). Parallelism comes from BLAS only.
public func conv2dBackward(
  dInput: UnsafeMutableBufferPointer<Float>?,
  dKernel: UnsafeMutableBufferPointer<Float>,
  dBias: UnsafeMutableBufferPointer<Float>?,
  dOutput: UnsafeBufferPointer<Float>,
  input: UnsafeBufferPointer<Float>,
  kernel: UnsafeBufferPointer<Float>,
  shape: ConvShape,
  scratch: UnsafeMutableBufferPointer<Float>
) {
  let s = shape
  let cout = s.outChannels
  let k = s.patchSize
  let rows = s.batch * s.outputHeight * s.outputWidth
  precondition(rows > 0, "conv2dBackward: empty output for \(s)")
  precondition(input.count >= s.inputCount, "conv2dBackward: input too small")
  precondition(dOutput.count >= s.outputCount, "conv2dBackward: dOutput too small")
  precondition(
    kernel.count == s.kernelCount, "conv2dBackward: kernel has \(kernel.count) != \(s.kernelCount)")
  precondition(dKernel.count == s.kernelCount, "conv2dBackward: dKernel length")
  precondition(dBias == nil || dBias!.count == cout, "conv2dBackward: dBias length")
  precondition(dInput == nil || dInput!.count >= s.inputCount, "conv2dBackward: dInput too small")
  let dy = dOutput.baseAddress!
  let w = kernel.baseAddress!
  let dw = dKernel.baseAddress!

  if let dBias {
    let db = dBias.baseAddress!
    for r in 0..<rows {
      let g = dy + r * cout
      for o in 0..<cout { db[o] += g[o] }
    }
  }

  if let plan = WinogradTrainingPlan(s, scratch: scratch.count) {
    winogradConv2dBackward(
      dInput: dInput?.baseAddress, dKernel: dw, dOutput: dy, input: input.baseAddress!, kernel: w, plan: plan,
      scratch: scratch.baseAddress!)
    return
  }

  if !s.needsColumns {
    // 1x1, stride 1, unpadded: the input is the column matrix (rows, Cin).
    let x = input.baseAddress!
    gemm(dw, x, dy, m: k, n: cout, k: rows, transA: true, transB: false, beta: 1)
    if let dInput {
      gemm(dInput.baseAddress!, dy, w, m: rows, n: k, k: cout, transA: false, transB: true, beta: 1)
    }
    return
  }

  precondition(scratch.count >= k, "conv2dBackward: scratch \(scratch.count) < one row of columns \(k)")
  let block = min(conv2dRowBlock(s), scratch.count / k)
  let columns = scratch.baseAddress!
  var r0 = 0
  while r0 < rows {
    let r1 = min(rows, r0 + block)
    let m = r1 - r0
    let g = dy + r0 * cout
    // im2col also covers the strided 1x1 window (the forward's `subsample` is its special case).
    im2col(scratch, input, shape: s, rows: r0..<r1)
    // dW (K, Cout) += X_block^T (K, m) dY_block (m, Cout)
    gemm(dw, columns, g, m: k, n: cout, k: m, transA: true, transB: false, beta: 1)
    if let dInput {
      // dX_block (m, K) = dY_block (m, Cout) W^T (Cout, K), reusing the columns' scratch.
      gemm(columns, g, w, m: m, n: k, k: cout, transA: false, transB: true, beta: 0)
      col2im(dInput, UnsafeBufferPointer(scratch), shape: s, rows: r0..<r1)
    }
    r0 = r1
  }
}

/// Reference convolution backward: the definition, seven loops, float64 accumulation, one
/// output position at a time. Same layouts, arguments and accumulation as `conv2dBackward`.
public func conv2dBackwardNaive(
  dInput: UnsafeMutableBufferPointer<Float>?,
  dKernel: UnsafeMutableBufferPointer<Float>,
  dBias: UnsafeMutableBufferPointer<Float>?,
  dOutput: UnsafeBufferPointer<Float>,
  input: UnsafeBufferPointer<Float>,
  kernel: UnsafeBufferPointer<Float>,
  shape: ConvShape
) {
  let s = shape
  let (oh, ow, cin, cout) = (s.outputHeight, s.outputWidth, s.inChannels, s.outChannels)
  var dk = [Double](repeating: 0, count: s.kernelCount)
  var db = [Double](repeating: 0, count: cout)
  var dx = [Double](repeating: 0, count: s.inputCount)
  for n in 0..<s.batch {
    for oy in 0..<oh {
      for ox in 0..<ow {
        let obase = ((n * oh + oy) * ow + ox) * cout
        for o in 0..<cout { db[o] += Double(dOutput[obase + o]) }
        for ky in 0..<s.window.height {
          let iy = oy * s.window.strideHeight - s.window.padding.top + ky
          if iy < 0 || iy >= s.height { continue }
          for kx in 0..<s.window.width {
            let ix = ox * s.window.strideWidth - s.window.padding.left + kx
            if ix < 0 || ix >= s.width { continue }
            for i in 0..<cin {
              let xi = ((n * s.height + iy) * s.width + ix) * cin + i
              let kbase = ((ky * s.window.width + kx) * cin + i) * cout
              for o in 0..<cout {
                let g = Double(dOutput[obase + o])
                dk[kbase + o] += Double(input[xi]) * g
                dx[xi] += Double(kernel[kbase + o]) * g
              }
            }
          }
        }
      }
    }
  }
  for i in 0..<dk.count { dKernel[i] += Float(dk[i]) }
  if let dBias { for o in 0..<cout { dBias[o] += Float(db[o]) } }
  if let dInput { for i in 0..<dx.count { dInput[i] += Float(dx[i]) } }
}
