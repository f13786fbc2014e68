// Convolution for inference on the engine's own kernels: weights packed once per layer, rows
// (or Winograd tiles) split over `threads` threads, each unfolding or transforming its own block
// into its own scratch, multiplying it and writing the epilogue while the block is in cache.
//
// input (N, H, W, Cin) NHWC, output (N, OH, OW, Cout). The packed kernel is
//   Winograd (3x3 stride 1): 16 packed (Cin, Cout) matrices U[e] = (G g G^T)[e], e = 4 * row + col;
//   otherwise: the HWIO kernel as one packed (KH * KW * Cin, Cout) matrix.
// The BLAS path (Conv2D.swift, Winograd.swift) stays the reference and the training path.
import CKernels

/// The kernel of `shape` packed for `conv2dForwardInference`; HWIO in, float64 Winograd transform.
public func packConvolutionKernel(_ kernel: [Float], shape: ConvShape, winograd: Bool) -> [Float] {
  precondition(kernel.count == shape.kernelCount, "packConvolutionKernel: kernel is not \(shape)")
  let c = shape.inChannels
  let k = shape.outChannels
  guard winograd else {
    return kernel.withUnsafeBufferPointer { packMatrix($0, rows: shape.patchSize, columns: k) }
  }
  precondition(winogradApplies(shape), "packConvolutionKernel: Winograd needs a 3x3 stride-1 window")
  let u = winogradTransformKernel(kernel, inChannels: c, outChannels: k)  // (16, C, K)
  var packed: [Float] = []
  packed.reserveCapacity(16 * packedCount(rows: c, columns: k))
  u.withUnsafeBufferPointer { up in
    for e in 0..<16 {
      packed += packMatrix(UnsafeBufferPointer(rebasing: up[(e * c * k)..<((e + 1) * c * k)]), rows: c, columns: k)
    }
  }
  return packed
}

/// Winograd tiles one thread transforms and multiplies at a time: V (16, t, C) and M (16, t, K)
/// together about 1M floats, at least 48 tiles so each of the 16 products has rows to spare.
func inferenceTileBlock(_ shape: ConvShape) -> Int {
  max(48, (1 << 20) / (16 * (shape.inChannels + shape.outChannels)))
}

/// Output rows one thread unfolds and multiplies at a time: about 256K floats of columns.
func inferenceRowBlock(_ shape: ConvShape) -> Int { max(48, (1 << 18) / shape.patchSize) }

/// Scratch floats one thread needs for `shape` (0 for an unpadded 1x1 stride-1 convolution).
public func inferenceScratchPerThread(_ shape: ConvShape, winograd: Bool) -> Int {
  if winograd { return inferenceTileBlock(shape) * 16 * (shape.inChannels + shape.outChannels) }
  return shape.needsColumns ? inferenceRowBlock(shape) * shape.patchSize : 0
}

/// output = activation(conv(input, kernel) + bias + residual), the kernel packed by
/// `packConvolutionKernel(_:shape:winograd:)` with the same `winograd`. `scratch` holds
/// `threads * inferenceScratchPerThread(shape, winograd:)` floats; `residual`, if given, is
/// (N, OH, OW, Cout).
public func conv2dForwardInference(
  _ output: UnsafeMutableBufferPointer<Float>,
  _ input: UnsafeBufferPointer<Float>,
  packedKernel: UnsafeBufferPointer<Float>,
  bias: UnsafeBufferPointer<Float>?,
  shape: ConvShape,
  residual: UnsafeBufferPointer<Float>? = nil,
  activation: Activation = .identity,
  winograd: Bool,
  scratch: UnsafeMutableBufferPointer<Float>,
  threads: Int = computeThreads()
) {
  let s = shape
  let c = s.inChannels
  let k = s.outChannels
  precondition(s.outputHeight > 0 && s.outputWidth > 0, "conv2dForwardInference: empty output for \(s)")
  precondition(input.count >= s.inputCount && output.count >= s.outputCount, "conv2dForwardInference: buffers")
  precondition(bias == nil || bias!.count == k, "conv2dForwardInference: bias length")
  precondition(residual == nil || residual!.count >= s.outputCount, "conv2dForwardInference: residual too small")
  let perThread = inferenceScratchPerThread(s, winograd: winograd)
  let threads = max(1, perThread == 0 ? threads : min(threads, scratch.count / perThread))
  precondition(perThread == 0 || scratch.count >= perThread, "conv2dForwardInference: scratch too small")
  let src = input.baseAddress!
  let dst = output.baseAddress!
  let u = packedKernel.baseAddress!
  let b = bias?.baseAddress
  let r = residual?.baseAddress
  let relu: Int32 = activation == .relu ? 1 : 0

  if winograd {
    precondition(winogradApplies(s), "conv2dForwardInference: Winograd needs a 3x3 stride-1 window")
    let packedStride = packedCount(rows: c, columns: k)
    precondition(packedKernel.count == 16 * packedStride, "conv2dForwardInference: kernel is not 16 packed (C, K)")
    let tilesW = (s.outputWidth + 1) / 2
    let tilesPerImage = ((s.outputHeight + 1) / 2) * tilesW
    var g = hs_winograd_geometry(
      h: Int32(s.height), w: Int32(s.width), c: Int32(c), oh: Int32(s.outputHeight), ow: Int32(s.outputWidth),
      k: Int32(k), pad_top: Int32(s.window.padding.top), pad_left: Int32(s.window.padding.left),
      tiles_w: Int32(tilesW), tiles_per_image: Int32(tilesPerImage))
    let block = inferenceTileBlock(s)
    withUnsafePointer(to: &g) { geometry in
      parallelSlices(s.batch * tilesPerImage, parts: threads) { part, tiles in
        let v = scratch.baseAddress! + part * perThread  // (16, t, C)
        var t0 = tiles.lowerBound
        while t0 < tiles.upperBound {
          let t = min(block, tiles.upperBound - t0)
          let m = v + 16 * t * c  // (16, t, K)
          hs_winograd_input(geometry, src, Int32(t0), Int32(t), v)
          for e in 0..<16 {
            gemmPacked(m + e * t * k, ldc: k, v + e * t * c, lda: c, packed: u + e * packedStride, m: t, n: k, k: c)
          }
          hs_winograd_output(geometry, m, Int32(t0), Int32(t), b, r, relu, dst)
          t0 += t
        }
      }
    }
    return
  }

  let patch = s.patchSize
  precondition(packedKernel.count == packedCount(rows: patch, columns: k), "conv2dForwardInference: kernel size")
  let isStrided1x1 = s.window.height == 1 && s.window.width == 1 && s.window.padding == .zero
  let block = inferenceRowBlock(s)
  parallelSlices(s.batch * s.outputHeight * s.outputWidth, parts: threads) { part, rows in
    var r0 = rows.lowerBound
    while r0 < rows.upperBound {
      let r1 = s.needsColumns ? min(rows.upperBound, r0 + block) : rows.upperBound
      let a: UnsafePointer<Float>
      if s.needsColumns {
        let columns = UnsafeMutableBufferPointer(start: scratch.baseAddress! + part * perThread, count: perThread)
        if isStrided1x1 {
          subsample(columns, input, shape: s, rows: r0..<r1)
        } else {
          im2col(columns, input, shape: s, rows: r0..<r1)
        }
        a = UnsafePointer(columns.baseAddress!)
      } else {
        a = src + r0 * patch
      }
      gemmPacked(
        dst + r0 * k, ldc: k, a, lda: patch, packed: u, m: r1 - r0, n: k, k: patch, bias: b,
        residual: r.map { $0 + r0 * k }, ldr: k, activation: activation)
      r0 = r1
    }
  }
}
