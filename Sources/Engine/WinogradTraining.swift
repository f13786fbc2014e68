// Training's 3x3 stride-1 convolutions (ResNet50's conv5_block*_2, VGG's block5) through
// Winograd F(2x2, 3x3), forward and backward, on OpenBLAS' GEMMs. Winograd.swift has the
// method and its matrices; the transforms are CKernels' (the backward ones are the forward
// ones transposed, so the gradients are those of the function forward computes).
//
// With T tiles (2x2 outputs each) of C input and K output channels, per pass:
//   forward   V = B^T d B (16, T, C), U = G g G^T (16, C, K), M[e] = V[e] U[e], Y = A^T M A
//   backward  E = A dY A^T (16, T, K); dInput += B (E[e] U[e]^T) B^T; dKernel += G^T (V[e]^T E[e]) G
// Each pass is 16 GEMMs of T x C x K: 16 T C K multiply-adds against the direct method's 9 * 4 T C K
// (2.25x fewer; ResNet50's conv5 at 7 x 7 pads to 8 x 8, so 1.72x there). The operands change
// every step, so nothing is packed ahead; U is formed again in backward (it costs one pass over
// the kernel) rather than kept. The transforms are split over the engine's threads between the
// GEMMs, which OpenBLAS threads. ResNet50's conv5_block*_2 over 16 images (Zen 4, 2 cores,
// median of 12 alternating runs): forward 23.2 -> 15.3 ms, backward 44.3 -> 29.3 ms against
// the blocked im2col path.
import CKernels

/// Where a Winograd training pass keeps what it forms, as offsets in its scratch.
struct WinogradTrainingPlan {
  let geometry: hs_winograd_geometry
  let tiles: Int
  let c: Int
  let k: Int

  /// The plan for `s` when it is a 3x3 stride-1 window and `scratch` floats hold what Winograd
  /// forms; nil otherwise (the direct method runs: it makes do with one row of columns).
  init?(_ s: ConvShape, scratch: Int) {
    guard winogradApplies(s) else { return nil }
    self.init(s)
    guard scratch >= scratchCount else { return nil }
  }

  init(_ s: ConvShape) {
    let tilesW = (s.outputWidth + 1) / 2
    let tilesPerImage = ((s.outputHeight + 1) / 2) * tilesW
    geometry = hs_winograd_geometry(
      h: Int32(s.height), w: Int32(s.width), c: Int32(s.inChannels), oh: Int32(s.outputHeight),
      ow: Int32(s.outputWidth), k: Int32(s.outChannels), pad_top: Int32(s.window.padding.top),
      pad_left: Int32(s.window.padding.left), tiles_w: Int32(tilesW), tiles_per_image: Int32(tilesPerImage))
    tiles = s.batch * tilesPerImage
    c = s.inChannels
    k = s.outChannels
  }

  /// U (16, C, K), V (16, T, C), then M or E (16, T, K), then backward's Q (16, T, C).
  var kernelCount: Int { 16 * c * k }
  var inputCount: Int { 16 * tiles * c }
  var outputCount: Int { 16 * tiles * k }
  var scratchCount: Int { kernelCount + 2 * inputCount + outputCount }
}

/// Floats of scratch `winogradConv2dForward` and `winogradConv2dBackward` need for `shape`.
func winogradTrainingScratchCount(_ shape: ConvShape) -> Int { WinogradTrainingPlan(shape).scratchCount }

/// output = activation(conv(input, kernel) + bias + residual) for a 3x3 stride-1 `shape`
/// (`winogradApplies`), as `conv2dForward` computes it directly.
func winogradConv2dForward(
  _ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, kernel: UnsafePointer<Float>,
  bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, activation: Activation,
  plan p: WinogradTrainingPlan, scratch: UnsafeMutablePointer<Float>
) {
  let u = scratch
  let v = u + p.kernelCount
  let m = v + p.inputCount
  let relu: Int32 = activation == .relu ? 1 : 0
  p.kernelTransform(kernel, into: u)
  p.overTiles { g, tiles in
    hs_winograd_input(g, input, Int32(tiles.lowerBound), Int32(tiles.count), v + tiles.lowerBound * p.c, p.tiles * p.c)
  }
  for e in 0..<16 {
    gemm(m + e * p.tiles * p.k, v + e * p.tiles * p.c, u + e * p.c * p.k, m: p.tiles, n: p.k, k: p.c)
  }
  p.overTiles { g, tiles in
    hs_winograd_output(
      g, m + tiles.lowerBound * p.k, Int32(tiles.lowerBound), Int32(tiles.count), p.tiles * p.k, bias, residual,
      relu, output)
  }
}

/// The gradients of `winogradConv2dForward` without bias or activation (the caller adds dBias):
/// ACCUMULATES into dKernel (3, 3, C, K) and, unless nil, dInput (N, H, W, C).
func winogradConv2dBackward(
  dInput: UnsafeMutablePointer<Float>?, dKernel: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
  input: UnsafePointer<Float>, kernel: UnsafePointer<Float>, plan p: WinogradTrainingPlan,
  scratch: UnsafeMutablePointer<Float>
) {
  let u = scratch
  let v = u + p.kernelCount
  let e = v + p.inputCount
  let q = e + p.outputCount
  let (tc, tk, ck) = (p.tiles * p.c, p.tiles * p.k, p.c * p.k)
  p.overTiles { g, tiles in
    hs_winograd_output_gradient(
      g, dOutput, Int32(tiles.lowerBound), Int32(tiles.count), e + tiles.lowerBound * p.k, tk)
    hs_winograd_input(g, input, Int32(tiles.lowerBound), Int32(tiles.count), v + tiles.lowerBound * p.c, tc)
  }
  if let dInput {
    p.kernelTransform(kernel, into: u)
    for x in 0..<16 {  // Q[x] (T, C) = E[x] (T, K) U[x]^T
      gemm(q + x * tc, e + x * tk, u + x * ck, m: p.tiles, n: p.c, k: p.k, transA: false, transB: true, beta: 0)
    }
    p.overTiles(wholeImages: true) { g, tiles in
      hs_winograd_input_gradient(g, q + tiles.lowerBound * p.c, Int32(tiles.lowerBound), Int32(tiles.count), tc, dInput)
    }
  }
  for x in 0..<16 {  // R[x] (C, K) = V[x]^T E[x], into U's place
    gemm(u + x * ck, v + x * tc, e + x * tk, m: p.c, n: p.k, k: p.tiles, transA: true, transB: false, beta: 0)
  }
  parallelSlices(ck, parts: computeThreads()) { _, pairs in
    hs_winograd_kernel_gradient(u + pairs.lowerBound, ck, pairs.count, dKernel + pairs.lowerBound)
  }
}

extension WinogradTrainingPlan {
  /// U (16, C, K) = G g G^T of `kernel`, the (c, k) pairs split over the engine's threads.
  func kernelTransform(_ kernel: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>) {
    let plane = c * k
    parallelSlices(plane, parts: computeThreads()) { _, pairs in
      hs_winograd_kernel(kernel + pairs.lowerBound, plane, pairs.count, u + pairs.lowerBound)
    }
  }

  /// Runs `body` on slices of the tiles over the engine's threads (whole images per slice
  /// when `wholeImages`: tiles of one image overlap in the input), with the geometry.
  func overTiles(
    wholeImages: Bool = false, _ body: (UnsafePointer<hs_winograd_geometry>, Range<Int>) -> Void
  ) {
    let perImage = Int(geometry.tiles_per_image)
    let unit = wholeImages ? perImage : 1
    var g = geometry
    withUnsafePointer(to: &g) { g in
      parallelSlices(tiles / unit, parts: computeThreads()) { _, units in
        body(g, (units.lowerBound * unit)..<(units.upperBound * unit))
      }
    }
  }
}
