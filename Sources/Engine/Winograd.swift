// Winograd F(2x2, 3x3) convolution for 3x3 stride-1 layers, forward, inference.
//
// Andrew Lavin, Scott Gray: "Fast Algorithms for Convolutional Neural Networks", CVPR 2016
// (arXiv:1509.09308). Each 2x2 block of outputs ("tile") is computed from a 4x4 input patch
// with 16 multiplies per (input channel, output channel) instead of 36, so the GEMM work of a
// 3x3 convolution drops 2.25x. With the patch d (4x4), kernel g (3x3):
//   Y = A^T [ (G g G^T) .* (B^T d B) ] A
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]
// The input and output transforms use only additions, so F(2x2, 3x3) loses little accuracy
// (we stay within ~1e-6 of direct convolution; larger tiles such as F(4x4, 3x3) would not).
//
// input (N, H, W, C) NHWC, kernel (3, 3, C, K) HWIO, output (N, OH, OW, K). The 16 products
// are 16 GEMMs: M[e] (T, K) = V[e] (T, C) x U[e] (C, K), T = tiles, e = 4 * row + column of
// the transformed 4x4 patch. Transformed kernel U is (16, C, K), made once per layer.

/// Whether `shape` can run through Winograd F(2x2, 3x3): a 3x3 window with stride 1.
public func winogradApplies(_ shape: ConvShape) -> Bool {
  shape.window.height == 3 && shape.window.width == 3 && shape.window.strideHeight == 1
    && shape.window.strideWidth == 1
}

/// U (16, C, K) = G g G^T for every (c, k) of an HWIO kernel (3, 3, C, K); float64 inside.
public func winogradTransformKernel(_ kernel: [Float], inChannels c: Int, outChannels k: Int) -> [Float] {
  precondition(kernel.count == 9 * c * k, "winogradTransformKernel: kernel is not (3, 3, \(c), \(k))")
  var u = [Float](repeating: 0, count: 16 * c * k)
  let plane = c * k
  kernel.withUnsafeBufferPointer { kp in
    u.withUnsafeMutableBufferPointer { up in
      let w = kp.baseAddress!
      let out = up.baseAddress!
      @inline(__always) func tap(_ i: Int, _ ck: Int) -> Double { Double(w[i * plane + ck]) }
      for ck in 0..<plane {
        // g (3x3) for this (c, k): HWIO puts tap (y, x) at (y * 3 + x) * C * K. Each pass
        // combines three values as G does: (v0, (v0 + v1 + v2) / 2, (v0 - v1 + v2) / 2, v2).
        for a in 0..<4 {
          // Row a of G g, one value per kernel column x.
          var row = (0.0, 0.0, 0.0)
          for x in 0..<3 {
            let g0 = tap(x, ck)
            let g1 = tap(3 + x, ck)
            let g2 = tap(6 + x, ck)
            let v: Double
            switch a {
            case 0: v = g0
            case 1: v = 0.5 * (g0 + g1 + g2)
            case 2: v = 0.5 * (g0 - g1 + g2)
            default: v = g2
            }
            if x == 0 { row.0 = v } else if x == 1 { row.1 = v } else { row.2 = v }
          }
          // Row a of (G g) G^T.
          out[(a * 4 + 0) * plane + ck] = Float(row.0)
          out[(a * 4 + 1) * plane + ck] = Float(0.5 * (row.0 + row.1 + row.2))
          out[(a * 4 + 2) * plane + ck] = Float(0.5 * (row.0 - row.1 + row.2))
          out[(a * 4 + 3) * plane + ck] = Float(row.2)
        }
      }
    }
  }
  return u
}

/// Number of 2x2 output tiles of one image.
func winogradTiles(_ shape: ConvShape) -> Int {
  ((shape.outputHeight + 1) / 2) * ((shape.outputWidth + 1) / 2)
}

/// Tiles (over the whole batch) transformed and multiplied at a time: about 2M floats of
/// V and M together, but at least 64 tiles so the 16 GEMMs stay efficient (on ResNet50,
/// 256K to 4M floats measured within noise of each other).
public func winogradTileBlock(_ shape: ConvShape) -> Int {
  min(shape.batch * winogradTiles(shape), max(64, (1 << 21) / (16 * (shape.inChannels + shape.outChannels))))
}

/// Scratch floats for one tile: its transformed input V (16, C) and products M (16, K).
public func winogradScratchPerTile(_ shape: ConvShape) -> Int {
  16 * (shape.inChannels + shape.outChannels)
}

/// Scratch floats `conv2dForwardWinograd` uses for full-size tile blocks.
public func winogradScratchCount(_ shape: ConvShape) -> Int {
  winogradTileBlock(shape) * winogradScratchPerTile(shape)
}

/// Rows of B^T d (or d B): (a0 - a2, a1 + a2, a2 - a1, a1 - a3). Written for SIMD8 (the
/// channel-vector main loop) and for Float (the channel tail).
@inline(__always)
private func bt(_ a0: SIMD8<Float>, _ a1: SIMD8<Float>, _ a2: SIMD8<Float>, _ a3: SIMD8<Float>) -> (
  SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>
) { (a0 - a2, a1 + a2, a2 - a1, a1 - a3) }

@inline(__always)
private func bt(_ a0: Float, _ a1: Float, _ a2: Float, _ a3: Float) -> (Float, Float, Float, Float) {
  (a0 - a2, a1 + a2, a2 - a1, a1 - a3)
}

/// Rows of A^T m (or m A): (a0 + a1 + a2, a1 - a2 - a3).
@inline(__always)
private func at(_ a0: SIMD8<Float>, _ a1: SIMD8<Float>, _ a2: SIMD8<Float>, _ a3: SIMD8<Float>) -> (
  SIMD8<Float>, SIMD8<Float>
) { (a0 + a1 + a2, a1 - a2 - a3) }

@inline(__always)
private func at(_ a0: Float, _ a1: Float, _ a2: Float, _ a3: Float) -> (Float, Float) {
  (a0 + a1 + a2, a1 - a2 - a3)
}

/// output = activation(conv3x3(input, kernel) + bias + residual) via F(2x2, 3x3).
///
/// `transformedKernel` is `winogradTransformKernel(kernel)`, (16, C, K). Tiles are processed
/// in blocks of `winogradTileBlock(shape)`, or fewer if `scratch` is smaller than
/// `winogradScratchCount(shape)`; it must hold at least one tile (`winogradScratchPerTile`).
/// Padding may be any: the tile grid starts at (-padding.top, -padding.left) and reads
/// outside the image are zeros.
public func conv2dForwardWinograd(
  _ output: UnsafeMutableBufferPointer<Float>,
  _ input: UnsafeBufferPointer<Float>,
  transformedKernel: UnsafeBufferPointer<Float>,
  bias: UnsafeBufferPointer<Float>?,
  shape: ConvShape,
  residual: UnsafeBufferPointer<Float>? = nil,
  activation: Activation = .identity,
  scratch: UnsafeMutableBufferPointer<Float>
) {
  let s = shape
  precondition(winogradApplies(s), "conv2dForwardWinograd: needs a 3x3 stride-1 window")
  let c = s.inChannels
  let k = s.outChannels
  let h = s.height
  let w = s.width
  let oh = s.outputHeight
  let ow = s.outputWidth
  precondition(oh > 0 && ow > 0, "conv2dForwardWinograd: empty output")
  precondition(input.count >= s.inputCount && output.count >= s.outputCount, "conv2dForwardWinograd: buffers")
  precondition(transformedKernel.count == 16 * c * k, "conv2dForwardWinograd: kernel is not (16, C, K)")
  precondition(residual == nil || residual!.count >= s.outputCount)
  let perTile = winogradScratchPerTile(s)
  precondition(scratch.count >= perTile, "conv2dForwardWinograd: scratch too small")
  let tilesH = (oh + 1) / 2
  let tilesW = (ow + 1) / 2
  let tilesPerImage = tilesH * tilesW
  let totalTiles = s.batch * tilesPerImage
  let block = min(winogradTileBlock(s), scratch.count / perTile)
  let pt = s.window.padding.top
  let pl = s.window.padding.left
  let src = input.baseAddress!
  let dst = output.baseAddress!
  let u = transformedKernel.baseAddress!
  let zeros = UnsafeMutablePointer<Float>.allocate(capacity: c)
  zeros.initialize(repeating: 0, count: c)
  defer { zeros.deallocate() }
  let vectorC = c / 8 * 8
  let vectorK = k / 8 * 8

  // Tile `global` (counted over the whole batch) is image n, tile row ty, tile column tx.
  @inline(__always) func tilePosition(_ global: Int) -> (n: Int, ty: Int, tx: Int) {
    (global / tilesPerImage, (global % tilesPerImage) / tilesW, global % tilesW)
  }

  var rows = [UnsafePointer<Float>](repeating: UnsafePointer(zeros), count: 16)
  var t0 = 0
  while t0 < totalTiles {
    let t = min(block, totalTiles - t0)  // tiles in this block
    let v = scratch.baseAddress!  // (16, t, C)
    let m = v + 16 * t * c  // (16, t, K)

    // Input transform: V[e][tile] = (B^T d B)[e] for the 4x4 patch of each tile.
    for tile in 0..<t {
      let (n, ty, tx) = tilePosition(t0 + tile)
      let image = src + n * h * w * c
      for i in 0..<4 {
        let y = 2 * ty - pt + i
        for j in 0..<4 {
          let x = 2 * tx - pl + j
          rows[i * 4 + j] =
            (y >= 0 && y < h && x >= 0 && x < w)
            ? UnsafePointer(image + (y * w + x) * c) : UnsafePointer(zeros)
        }
      }
      rows.withUnsafeBufferPointer { d in
        let out = v + tile * c
        let stride = t * c
        var ch = 0
        while ch < vectorC {
          @inline(__always) func ld(_ e: Int) -> SIMD8<Float> {
            UnsafeRawPointer(d[e] + ch).loadUnaligned(as: SIMD8<Float>.self)
          }
          @inline(__always) func st(_ e: Int, _ value: SIMD8<Float>) {
            UnsafeMutableRawPointer(out + e * stride + ch).storeBytes(of: value, as: SIMD8<Float>.self)
          }
          let r0 = bt(ld(0), ld(1), ld(2), ld(3))
          let r1 = bt(ld(4), ld(5), ld(6), ld(7))
          let r2 = bt(ld(8), ld(9), ld(10), ld(11))
          let r3 = bt(ld(12), ld(13), ld(14), ld(15))
          let c0 = bt(r0.0, r1.0, r2.0, r3.0)
          let c1 = bt(r0.1, r1.1, r2.1, r3.1)
          let c2 = bt(r0.2, r1.2, r2.2, r3.2)
          let c3 = bt(r0.3, r1.3, r2.3, r3.3)
          st(0, c0.0)
          st(1, c1.0)
          st(2, c2.0)
          st(3, c3.0)
          st(4, c0.1)
          st(5, c1.1)
          st(6, c2.1)
          st(7, c3.1)
          st(8, c0.2)
          st(9, c1.2)
          st(10, c2.2)
          st(11, c3.2)
          st(12, c0.3)
          st(13, c1.3)
          st(14, c2.3)
          st(15, c3.3)
          ch += 8
        }
        while ch < c {
          let r0 = bt(d[0][ch], d[1][ch], d[2][ch], d[3][ch])
          let r1 = bt(d[4][ch], d[5][ch], d[6][ch], d[7][ch])
          let r2 = bt(d[8][ch], d[9][ch], d[10][ch], d[11][ch])
          let r3 = bt(d[12][ch], d[13][ch], d[14][ch], d[15][ch])
          // Column j of B^T d B goes to elements (i * 4 + j); no array literal here, this runs
          // for every channel of a 3-channel input (VGG's first 3x3 convolution).
          @inline(__always) func put(_ j: Int, _ column: (Float, Float, Float, Float)) {
            out[(0 * 4 + j) * stride + ch] = column.0
            out[(1 * 4 + j) * stride + ch] = column.1
            out[(2 * 4 + j) * stride + ch] = column.2
            out[(3 * 4 + j) * stride + ch] = column.3
          }
          put(0, bt(r0.0, r1.0, r2.0, r3.0))
          put(1, bt(r0.1, r1.1, r2.1, r3.1))
          put(2, bt(r0.2, r1.2, r2.2, r3.2))
          put(3, bt(r0.3, r1.3, r2.3, r3.3))
          ch += 1
        }
      }
    }

    // The 16 element-wise products, each a GEMM over channels (BLAS threads inside).
    for e in 0..<16 {
      gemm(m + e * t * k, v + e * t * c, u + e * c * k, m: t, n: k, k: c)
    }

    // Output transform, fused with bias, residual and activation: Y = A^T M A per tile.
    let relu = activation == .relu
    let b = bias?.baseAddress
    let r = residual?.baseAddress
    let stride = t * k
    for tile in 0..<t {
      let (n, ty, tx) = tilePosition(t0 + tile)
      let p = m + tile * k
      var ko = 0
      // Writes one output pixel's channel run [ko, ko + width) if it lies inside the image.
      @inline(__always) func emit(_ dy: Int, _ dx: Int, _ value: SIMD8<Float>) {
        let y = 2 * ty + dy
        let x = 2 * tx + dx
        guard y < oh && x < ow else { return }
        let offset = ((n * oh + y) * ow + x) * k + ko
        var out = value
        if let b { out += UnsafeRawPointer(b + ko).loadUnaligned(as: SIMD8<Float>.self) }
        if let r { out += UnsafeRawPointer(r + offset).loadUnaligned(as: SIMD8<Float>.self) }
        if relu { out = out.replacing(with: 0, where: out .< 0) }
        UnsafeMutableRawPointer(dst + offset).storeBytes(of: out, as: SIMD8<Float>.self)
      }
      while ko < vectorK {
        @inline(__always) func ld(_ e: Int) -> SIMD8<Float> {
          UnsafeRawPointer(p + e * stride + ko).loadUnaligned(as: SIMD8<Float>.self)
        }
        let r0 = at(ld(0), ld(1), ld(2), ld(3))
        let r1 = at(ld(4), ld(5), ld(6), ld(7))
        let r2 = at(ld(8), ld(9), ld(10), ld(11))
        let r3 = at(ld(12), ld(13), ld(14), ld(15))
        let c0 = at(r0.0, r1.0, r2.0, r3.0)
        let c1 = at(r0.1, r1.1, r2.1, r3.1)
        emit(0, 0, c0.0)
        emit(1, 0, c0.1)
        emit(0, 1, c1.0)
        emit(1, 1, c1.1)
        ko += 8
      }
      while ko < k {
        @inline(__always) func ld(_ e: Int) -> Float { p[e * stride + ko] }
        let r0 = at(ld(0), ld(1), ld(2), ld(3))
        let r1 = at(ld(4), ld(5), ld(6), ld(7))
        let r2 = at(ld(8), ld(9), ld(10), ld(11))
        let r3 = at(ld(12), ld(13), ld(14), ld(15))
        let c0 = at(r0.0, r1.0, r2.0, r3.0)
        let c1 = at(r0.1, r1.1, r2.1, r3.1)
        @inline(__always) func emitOne(_ dy: Int, _ dx: Int, _ value: Float) {
          let y = 2 * ty + dy
          let x = 2 * tx + dx
          guard y < oh && x < ow else { return }
          let offset = ((n * oh + y) * ow + x) * k + ko
          var out = value + (b?[ko] ?? 0) + (r?[offset] ?? 0)
          if relu { out = max(out, 0) }
          dst[offset] = out
        }
        emitOne(0, 0, c0.0)
        emitOne(1, 0, c0.1)
        emitOne(0, 1, c1.0)
        emitOne(1, 1, c1.1)
        ko += 1
      }
    }
    t0 += t
  }
}
