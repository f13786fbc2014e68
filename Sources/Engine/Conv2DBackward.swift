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
/// `shape.needsColumns`; `conv2dBackwardScratchCount(shape)` gives full-size blocks.
/// Parallelism comes from BLAS only.
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
