// Convolution for inference on the engine's own kernels: weights packed once per layer, rows
// (or Winograd tiles) split over `threads` threads, each unfolding or transforming its own block
// into its own scratch, multiplying it and writing the epilogue while the block is in cache.
//
// input (N, H, W, Cin) NHWC, output (N, OH, OW, Cout). The packed kernel is
//   Winograd F(m x m, 3x3): e = 16 or 36 packed (Cin, Cout) matrices U[e] = (G g G^T)[e];
//   im2col + GEMM: the HWIO kernel as one packed (KH * KW * Cin, Cout) matrix.
// The BLAS path (Conv2D.swift) stays the training path; conv2dForwardNaive is the reference.
import CKernels

/// How an inference convolution computes its products.
public enum ConvolutionMethod: Sendable, CustomStringConvertible {
  /// im2col (or the input itself for an unpadded 1x1 stride-1 window) times the kernel.
  case gemm
  /// Winograd F(2x2, 3x3): 16 products per 4 outputs (2.25x fewer multiplications).
  case winograd2x2
  /// Winograd F(4x4, 3x3): 36 products per 16 outputs (4x fewer).
  case winograd4x4

  /// The transformed patch's side (4 or 6); 0 for `gemm`.
  var patch: Int {
    switch self {
    case .gemm: 0
    case .winograd2x2: 4
    case .winograd4x4: 6
    }
  }

  /// Outputs per tile side (2 or 4); 0 for `gemm`.
  var tile: Int { patch == 0 ? 0 : patch - 2 }

  public var description: String {
    switch self {
    case .gemm: "gemm"
    case .winograd2x2: "winograd F(2x2,3x3)"
    case .winograd4x4: "winograd F(4x4,3x3)"
    }
  }
}

/// The kernel of `shape` packed for `conv2dForwardInference` with `method`; HWIO in, float64
/// Winograd transforms.
public func packConvolutionKernel(_ kernel: [Float], shape: ConvShape, method: ConvolutionMethod) -> [Float] {
  let count = packedConvolutionKernelCount(shape, method: method)
  return [Float](unsafeUninitializedCapacity: count) { packed, initialized in
    packConvolutionKernel(kernel, shape: shape, method: method, into: packed)
    initialized = count
  }
}

/// `packConvolutionKernel(_:shape:method:)` written straight into `packed`, which holds
/// `packedConvolutionKernelCount(shape, method:)` floats (a backbone packs every layer into one
/// allocation: no per-layer copy, no second set of pages to fault in).
public func packConvolutionKernel(
  _ kernel: [Float], shape: ConvShape, method: ConvolutionMethod, into packed: UnsafeMutableBufferPointer<Float>
) {
  precondition(kernel.count == shape.kernelCount, "packConvolutionKernel: kernel is not \(shape)")
  precondition(packed.count == packedConvolutionKernelCount(shape, method: method), "packConvolutionKernel: size")
  let c = shape.inChannels
  let k = shape.outChannels
  precondition(method == .gemm || winogradApplies(shape), "packConvolutionKernel: Winograd needs a 3x3 stride-1 window")
  let u: [Float]
  switch method {
  case .gemm:
    kernel.withUnsafeBufferPointer {
      hs_pack(packed.baseAddress!, $0.baseAddress!, Int32(shape.patchSize), Int32(k), Int32(k))
    }
    return
  case .winograd2x2: u = winogradTransformKernel(kernel, inChannels: c, outChannels: k)
  case .winograd4x4:
    packWinograd4Kernel(kernel, inChannels: c, outChannels: k, into: packed)
    return
  }
  let stride = packedCount(rows: c, columns: k)
  // Each U[e] packed straight into its place: no per-element temporary arrays.
  u.withUnsafeBufferPointer { up in
    for e in 0..<(method.patch * method.patch) {
      hs_pack(packed.baseAddress! + e * stride, up.baseAddress! + e * c * k, Int32(c), Int32(k), Int32(k))
    }
  }
}

/// F(4x4, 3x3): U transformed a block of input channels at a time (about 4 MB of it) and each
/// block's rows packed straight into their places, instead of the whole U (four times the
/// kernel: 38 MB for one of ResNet50's conv5 layers) allocated, faulted in and copied.
/// `channelsPerBlock` is for tests.
func packWinograd4Kernel(
  _ kernel: [Float], inChannels c: Int, outChannels k: Int, into packed: UnsafeMutableBufferPointer<Float>,
  channelsPerBlock: Int? = nil
) {
  let stride = packedCount(rows: c, columns: k)
  let block = min(c, max(1, channelsPerBlock ?? (1 << 20) / (36 * k)))
  let u = UnsafeMutableBufferPointer<Float>.allocate(capacity: 36 * block * k)
  defer { u.deallocate() }
  kernel.withUnsafeBufferPointer { kp in
    var c0 = 0
    while c0 < c {
      let rows = min(block, c - c0)
      winograd4TransformKernel(
        kp.baseAddress!, inChannels: c, outChannels: k, channels: c0..<(c0 + rows), into: u.baseAddress!)
      for e in 0..<36 {
        hs_pack_rows(
          packed.baseAddress! + e * stride, u.baseAddress! + e * rows * k, Int32(c), Int32(k), Int32(c0), Int32(rows),
          Int32(k))
      }
      c0 += rows
    }
  }
}

/// Floats `packConvolutionKernel(_:shape:method:)` returns for `shape` and `method`.
public func packedConvolutionKernelCount(_ shape: ConvShape, method: ConvolutionMethod) -> Int {
  if method == .gemm { return packedCount(rows: shape.patchSize, columns: shape.outChannels) }
  return method.patch * method.patch * packedCount(rows: shape.inChannels, columns: shape.outChannels)
}

/// Winograd tiles one thread transforms and multiplies at a time: V (e, t, C) and M (e, t, K)
/// together about 1M floats, at least 48 tiles so each product has rows to spare.
func inferenceTileBlock(_ shape: ConvShape, elements: Int) -> Int {
  max(48, (1 << 20) / (elements * (shape.inChannels + shape.outChannels)))
}

/// Output rows one thread unfolds and multiplies at a time: about 256K floats of columns.
func inferenceRowBlock(_ shape: ConvShape) -> Int { max(48, (1 << 18) / shape.patchSize) }

/// Scratch floats one thread needs for `shape` (0 for an unpadded 1x1 stride-1 convolution).
public func inferenceScratchPerThread(_ shape: ConvShape, method: ConvolutionMethod) -> Int {
  guard method != .gemm else { return shape.needsColumns ? inferenceRowBlock(shape) * shape.patchSize : 0 }
  let elements = method.patch * method.patch
  return inferenceTileBlock(shape, elements: elements) * elements * (shape.inChannels + shape.outChannels)
}

/// output = activation(conv(input, kernel) + bias + residual), the kernel packed by
/// `packConvolutionKernel(_:shape:method:)` with the same `method`. `scratch` holds
/// `threads * inferenceScratchPerThread(shape, method:)` floats; `residual`, if given, is
/// (N, OH, OW, Cout).
public func conv2dForwardInference(
  _ output: UnsafeMutableBufferPointer<Float>,
  _ input: UnsafeBufferPointer<Float>,
  packedKernel: UnsafeBufferPointer<Float>,
  bias: UnsafeBufferPointer<Float>?,
  shape: ConvShape,
  residual: UnsafeBufferPointer<Float>? = nil,
  activation: Activation = .identity,
  method: ConvolutionMethod,
  scratch: UnsafeMutableBufferPointer<Float>,
  threads: Int = computeThreads()
) {
  let s = shape
  precondition(s.outputHeight > 0 && s.outputWidth > 0, "conv2dForwardInference: empty output for \(s)")
  precondition(input.count >= s.inputCount && output.count >= s.outputCount, "conv2dForwardInference: buffers")
  precondition(bias == nil || bias!.count == s.outChannels, "conv2dForwardInference: bias length")
  precondition(residual == nil || residual!.count >= s.outputCount, "conv2dForwardInference: residual too small")
  let perThread = inferenceScratchPerThread(s, method: method)
  precondition(perThread == 0 || scratch.count >= perThread, "conv2dForwardInference: scratch too small")
  let threads = max(1, perThread == 0 ? threads : min(threads, scratch.count / perThread))
  let epilogue = Epilogue(
    bias: bias?.baseAddress, residual: residual?.baseAddress, activation: activation)
  if method == .gemm {
    gemmConvolution(output, input, packedKernel, s, epilogue, scratch, perThread: perThread, threads: threads)
  } else {
    winogradConvolution(
      output, input, packedKernel, s, epilogue, method, scratch, perThread: perThread, threads: threads)
  }
}

/// What is added to a convolution's products before they are stored.
private struct Epilogue {
  var bias: UnsafePointer<Float>?
  var residual: UnsafePointer<Float>?
  var activation: Activation
}

/// Tiles split over the threads; per block of tiles: input transform into V, one packed GEMM
/// per transformed element, output transform with the epilogue.
private func winogradConvolution(
  _ output: UnsafeMutableBufferPointer<Float>, _ input: UnsafeBufferPointer<Float>,
  _ packedKernel: UnsafeBufferPointer<Float>, _ s: ConvShape, _ epilogue: Epilogue, _ method: ConvolutionMethod,
  _ scratch: UnsafeMutableBufferPointer<Float>, perThread: Int, threads: Int
) {
  precondition(winogradApplies(s), "conv2dForwardInference: Winograd needs a 3x3 stride-1 window")
  let c = s.inChannels
  let k = s.outChannels
  let elements = method.patch * method.patch
  let packedStride = packedCount(rows: c, columns: k)
  precondition(packedKernel.count == elements * packedStride, "conv2dForwardInference: kernel is not packed U")
  let tilesW = (s.outputWidth + method.tile - 1) / method.tile
  let tilesPerImage = ((s.outputHeight + method.tile - 1) / method.tile) * tilesW
  var g = hs_winograd_geometry(
    h: Int32(s.height), w: Int32(s.width), c: Int32(c), oh: Int32(s.outputHeight), ow: Int32(s.outputWidth),
    k: Int32(k), pad_top: Int32(s.window.padding.top), pad_left: Int32(s.window.padding.left),
    tiles_w: Int32(tilesW), tiles_per_image: Int32(tilesPerImage))
  let block = inferenceTileBlock(s, elements: elements)
  let src = input.baseAddress!
  let dst = output.baseAddress!
  let u = packedKernel.baseAddress!
  let relu: Int32 = epilogue.activation == .relu ? 1 : 0
  let large = method == .winograd4x4
  withUnsafePointer(to: &g) { geometry in
    parallelSlices(s.batch * tilesPerImage, parts: threads) { part, tiles in
      let v = scratch.baseAddress! + part * perThread  // (elements, t, C)
      var t0 = tiles.lowerBound
      while t0 < tiles.upperBound {
        let t = min(block, tiles.upperBound - t0)
        let m = v + elements * t * c  // (elements, t, K)
        if large {
          hs_winograd4_input(geometry, src, Int32(t0), Int32(t), v)
        } else {
          hs_winograd_input(geometry, src, Int32(t0), Int32(t), v, t * c)
        }
        for e in 0..<elements {
          gemmPacked(m + e * t * k, ldc: k, v + e * t * c, lda: c, packed: u + e * packedStride, m: t, n: k, k: c)
        }
        if large {
          hs_winograd4_output(geometry, m, Int32(t0), Int32(t), epilogue.bias, epilogue.residual, relu, dst)
        } else {
          hs_winograd_output(geometry, m, Int32(t0), Int32(t), t * k, epilogue.bias, epilogue.residual, relu, dst)
        }
        t0 += t
      }
    }
  }
}

/// Output rows split over the threads; per block of rows: im2col (or a strided pick, or the
/// input itself), one packed GEMM with the epilogue fused.
private func gemmConvolution(
  _ output: UnsafeMutableBufferPointer<Float>, _ input: UnsafeBufferPointer<Float>,
  _ packedKernel: UnsafeBufferPointer<Float>, _ s: ConvShape, _ epilogue: Epilogue,
  _ scratch: UnsafeMutableBufferPointer<Float>, perThread: Int, threads: Int
) {
  let patch = s.patchSize
  let k = s.outChannels
  precondition(packedKernel.count == packedCount(rows: patch, columns: k), "conv2dForwardInference: kernel size")
  let isStrided1x1 = s.window.height == 1 && s.window.width == 1 && s.window.padding == .zero
  let block = inferenceRowBlock(s)
  let dst = output.baseAddress!
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
        a = input.baseAddress! + r0 * patch
      }
      gemmPacked(
        dst + r0 * k, ldc: k, a, lda: patch, packed: packedKernel.baseAddress!, m: r1 - r0, n: k, k: patch,
        bias: epilogue.bias, residual: epilogue.residual.map { $0 + r0 * k }, ldr: k,
        activation: epilogue.activation)
      r0 = r1
    }
  }
}
