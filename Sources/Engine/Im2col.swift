// im2col / col2im: the adjoint pair that turns a convolution into one GEMM.
//
// input is (N, H, W, C), NHWC. The column matrix is (N * OH * OW, KH * KW * C): one row per
// output position (n, oh, ow), its columns ordered (kh, kw, c) -- the row order of an HWIO
// kernel reshaped to (KH * KW * C, Cout), so convolution is cols x kernel with no transpose.
// Positions that fall into the explicit zero padding read as 0 (im2col) and are dropped
// (col2im).

/// The integers the patch-walking kernels (im2col, col2im, subsample) index with, read once
/// from a `ConvShape` so the loops see plain locals rather than computed properties. Names
/// follow the shape comments: (h, w, c) input, (kh, kw) window, (sh, sw) stride, (pt, pl)
/// top/left padding, (oh, ow) output.
struct PatchGeometry {
  let h: Int
  let w: Int
  let c: Int
  let kh: Int
  let kw: Int
  let sh: Int
  let sw: Int
  let pt: Int
  let pl: Int
  let oh: Int
  let ow: Int

  @inline(__always)
  init(_ s: ConvShape) {
    h = s.height
    w = s.width
    c = s.inChannels
    kh = s.window.height
    kw = s.window.width
    sh = s.window.strideHeight
    sw = s.window.strideWidth
    pt = s.window.padding.top
    pl = s.window.padding.left
    oh = s.outputHeight
    ow = s.outputWidth
  }

  /// The output position of column-matrix row `row` = (n * OH + oy) * OW + ox.
  @inline(__always)
  func position(ofRow row: Int) -> (n: Int, oy: Int, ox: Int) {
    (row / (ow * oh), (row / ow) % oh, row % ow)
  }
}

/// Unfolds `input` (N, H, W, C) into `columns` (N * OH * OW, KH * KW * C) for `shape`.
/// `shape.outChannels` is ignored.
public func im2col(
  _ columns: UnsafeMutableBufferPointer<Float>, _ input: UnsafeBufferPointer<Float>, shape: ConvShape
) {
  im2col(columns, input, shape: shape, rows: 0..<(shape.batch * shape.outputHeight * shape.outputWidth))
}

/// Rows `rows` of the column matrix only (row = (n * OH + oy) * OW + ox), into `columns`
/// (rows.count, KH * KW * C): lets a convolution unfold and multiply a cache-sized block at
/// a time.
public func im2col(
  _ columns: UnsafeMutableBufferPointer<Float>, _ input: UnsafeBufferPointer<Float>, shape: ConvShape,
  rows: Range<Int>
) {
  let s = shape
  precondition(input.count >= s.inputCount, "im2col: input has \(input.count) < \(s.inputCount) values")
  precondition(columns.count >= rows.count * s.patchSize, "im2col: columns buffer too small")
  let g = PatchGeometry(s)
  let (h, w, c, kh, kw) = (g.h, g.w, g.c, g.kh, g.kw)
  precondition(rows.upperBound <= s.batch * g.oh * g.ow, "im2col: rows beyond the output")
  let rowLength = kw * c
  let src = input.baseAddress!
  var dst = columns.baseAddress!
  for row in rows {
    let (n, oy, ox) = g.position(ofRow: row)
    let image = src + n * h * w * c
    let x0 = ox * g.sw - g.pl
    for ky in 0..<kh {
      let iy = oy * g.sh - g.pt + ky
      if iy < 0 || iy >= h {
        dst.update(repeating: 0, count: rowLength)
      } else if x0 >= 0 && x0 + kw <= w {
        // The whole kernel row lies inside the image: one contiguous copy.
        dst.update(from: image + (iy * w + x0) * c, count: rowLength)
      } else {
        for kx in 0..<kw {
          let ix = x0 + kx
          if ix < 0 || ix >= w {
            (dst + kx * c).update(repeating: 0, count: c)
          } else {
            (dst + kx * c).update(from: image + (iy * w + ix) * c, count: c)
          }
        }
      }
      dst += rowLength
    }
  }
}

/// The adjoint of `im2col`: accumulates (`+=`) `columns` (N * OH * OW, KH * KW * C) back into
/// `input` (N, H, W, C); entries that came from the padding are dropped.
public func col2im(
  _ input: UnsafeMutableBufferPointer<Float>, _ columns: UnsafeBufferPointer<Float>, shape: ConvShape
) {
  col2im(input, columns, shape: shape, rows: 0..<(shape.batch * shape.outputHeight * shape.outputWidth))
}

/// The adjoint of the row-block `im2col`: accumulates `columns` (rows.count, KH * KW * C),
/// rows `rows` of the full column matrix, back into `input` (N, H, W, C). Lets a convolution's
/// backward pass fold a cache-sized block of input gradients at a time.
public func col2im(
  _ input: UnsafeMutableBufferPointer<Float>, _ columns: UnsafeBufferPointer<Float>, shape: ConvShape,
  rows: Range<Int>
) {
  let s = shape
  precondition(input.count >= s.inputCount, "col2im: input has \(input.count) < \(s.inputCount) values")
  precondition(columns.count >= rows.count * s.patchSize, "col2im: columns buffer too small")
  let g = PatchGeometry(s)
  let (h, w, c, kh, kw) = (g.h, g.w, g.c, g.kh, g.kw)
  precondition(rows.upperBound <= s.batch * g.oh * g.ow, "col2im: rows beyond the output")
  let dstBase = input.baseAddress!
  var src = columns.baseAddress!
  for row in rows {
    let (n, oy, ox) = g.position(ofRow: row)
    let image = dstBase + n * h * w * c
    for ky in 0..<kh {
      let iy = oy * g.sh - g.pt + ky
      for kx in 0..<kw {
        let ix = ox * g.sw - g.pl + kx
        if iy >= 0 && iy < h && ix >= 0 && ix < w {
          let d = image + (iy * w + ix) * c
          for ch in 0..<c { d[ch] += src[ch] }
        }
        src += c
      }
    }
  }
}
