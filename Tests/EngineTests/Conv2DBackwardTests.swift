import XCTest

@testable import Engine

final class Conv2DBackwardTests: XCTestCase {
  struct Case {
    var n, h, w, cin, cout, kh, kw, sh, sw: Int
    var pad: Padding2D?  // nil: Keras 'same'

    var shape: ConvShape {
      let p = pad ?? Padding2D.same(height: h, width: w, window: (kh, kw), stride: (sh, sw))
      let window = Window2D(height: kh, width: kw, strideHeight: sh, strideWidth: sw, padding: p)
      return ConvShape(batch: n, height: h, width: w, inChannels: cin, outChannels: cout, window: window)
    }
  }

  /// Strides 1 and 2, kernels 1x1/3x3/7x7, 'same' (asymmetric) and 'valid', ResNet's padded stem.
  let cases: [Case] = [
    Case(n: 2, h: 5, w: 5, cin: 3, cout: 4, kh: 3, kw: 3, sh: 1, sw: 1, pad: nil),
    Case(n: 2, h: 6, w: 6, cin: 3, cout: 4, kh: 3, kw: 3, sh: 2, sw: 2, pad: nil),  // pad bottom/right
    Case(n: 1, h: 6, w: 7, cin: 2, cout: 3, kh: 3, kw: 3, sh: 1, sw: 1, pad: .zero),
    Case(n: 2, h: 4, w: 5, cin: 4, cout: 6, kh: 1, kw: 1, sh: 1, sw: 1, pad: .zero),  // plain GEMM
    Case(n: 2, h: 5, w: 5, cin: 4, cout: 6, kh: 1, kw: 1, sh: 2, sw: 2, pad: .zero),  // subsampling
    Case(n: 1, h: 9, w: 9, cin: 2, cout: 3, kh: 7, kw: 7, sh: 2, sw: 2, pad: nil),
    Case(n: 1, h: 11, w: 10, cin: 2, cout: 3, kh: 7, kw: 7, sh: 2, sw: 2, pad: Padding2D(all: 3)),  // conv1
    Case(
      n: 1, h: 6, w: 7, cin: 2, cout: 3, kh: 2, kw: 3, sh: 1, sw: 2,
      pad: Padding2D(top: 0, bottom: 1, left: 2, right: 0)),
  ]

  /// Gradients of L = sum(conv(x) * r), accumulated onto buffers that start at 1 (so a
  /// backward that overwrites fails), with 1 subtracted again.
  func gradients(
    _ shape: ConvShape, x: [Float], kernel: [Float], r: [Float], naive: Bool, scratchRows: Int
  ) -> (dx: [Float], dk: [Float], db: [Float]) {
    let (xb, kb, rb) = (TestBuffer(x), TestBuffer(kernel), TestBuffer(r))
    let dx = TestBuffer(repeating: 1, count: shape.inputCount)
    let dk = TestBuffer(repeating: 1, count: shape.kernelCount)
    let db = TestBuffer(repeating: 1, count: shape.outChannels)
    let scratch = TestBuffer(repeating: .nan, count: scratchRows * shape.patchSize)
    if naive {
      conv2dBackwardNaive(
        dInput: dx.m, dKernel: dk.m, dBias: db.m, dOutput: rb.r, input: xb.r, kernel: kb.r, shape: shape)
    } else {
      conv2dBackward(
        dInput: dx.m, dKernel: dk.m, dBias: db.m, dOutput: rb.r, input: xb.r, kernel: kb.r, shape: shape,
        scratch: scratch.m)
    }
    keep(xb, kb, rb, scratch)
    return (dx.array.map { $0 - 1 }, dk.array.map { $0 - 1 }, db.array.map { $0 - 1 })
  }

  func forward(_ shape: ConvShape, x: [Float], kernel: [Float], bias: [Float]) -> [Float] {
    let y = TestBuffer(repeating: .nan, count: shape.outputCount)
    let (xb, kb, bb) = (TestBuffer(x), TestBuffer(kernel), TestBuffer(bias))
    conv2dForwardNaive(y.m, xb.r, kernel: kb.r, bias: bb.r, shape: shape)
    keep(xb, kb, bb)
    return y.array
  }

  /// Fast (blocked im2col, transposed GEMMs, col2im) against the naive definition, with tiny
  /// and full-size scratch so row blocks straddle output rows and images; then both against
  /// central differences (L is linear in every argument, so a large step h = 0.25 has no truncation error and
  /// keeps float32 rounding of the outputs small against 2h).
  func testConvBackwardMatchesNaiveAndFiniteDifferences() {
    var rng = TestRandom(seed: 41)
    var worstNaive: Float = 0
    var worstFD: Float = 0
    for c in cases {
      let s = c.shape
      let x = rng.array(s.inputCount)
      let k = rng.array(s.kernelCount)
      let b = rng.array(s.outChannels)
      let r = rng.array(s.outputCount)
      let naive = gradients(s, x: x, kernel: k, r: r, naive: true, scratchRows: 0)
      for rows in [1, 5, max(1, conv2dBackwardScratchCount(s) / s.patchSize)] {
        let fast = gradients(s, x: x, kernel: k, r: r, naive: false, scratchRows: rows)
        let d = max(
          maxAbsDiff(fast.dx, naive.dx), maxAbsDiff(fast.dk, naive.dk), maxAbsDiff(fast.db, naive.db))
        worstNaive = max(worstNaive, d)
        XCTAssertLessThan(d, 1e-5, "\(s) scratch rows \(rows)")
      }
      let numX = centralDifferences64(x, h: 0.25) { dot64(self.forward(s, x: $0, kernel: k, bias: b), r) }
      let numK = centralDifferences64(k, h: 0.25) { dot64(self.forward(s, x: x, kernel: $0, bias: b), r) }
      let numB = centralDifferences64(b, h: 0.25) { dot64(self.forward(s, x: x, kernel: k, bias: $0), r) }
      let rel = max(
        maxRelativeError(naive.dx, numX), maxRelativeError(naive.dk, numK), maxRelativeError(naive.db, numB))
      worstFD = max(worstFD, rel)
      XCTAssertLessThan(rel, 1e-3, "\(s)")
    }
    print(
      "conv2d backward: fast vs naive max |diff| \(worstNaive), naive vs finite differences max rel",
      worstFD
    )
  }

  /// Without dInput (the first trainable layer) only the kernel and bias gradients are made.
  func testConvBackwardWithoutInputGradient() {
    var rng = TestRandom(seed: 3)
    let s = cases[1].shape
    let x = rng.array(s.inputCount)
    let k = rng.array(s.kernelCount)
    let r = rng.array(s.outputCount)
    let full = gradients(s, x: x, kernel: k, r: r, naive: false, scratchRows: 4)
    let dk = TestBuffer(repeating: 1, count: s.kernelCount)
    let scratch = TestBuffer(repeating: 0, count: conv2dBackwardScratchCount(s))
    let (rb, xb, kb) = (TestBuffer(r), TestBuffer(x), TestBuffer(k))
    conv2dBackward(
      dInput: nil, dKernel: dk.m, dBias: nil, dOutput: rb.r, input: xb.r, kernel: kb.r, shape: s,
      scratch: scratch.m)
    keep(scratch, rb, xb, kb)
    XCTAssertLessThan(maxAbsDiff(dk.array.map { $0 - 1 }, full.dk), 1e-6)
  }

  /// col2im is the adjoint of im2col: <im2col(x), c> = <x, col2im(c)>, for row blocks too.
  func testCol2imIsAdjointOfIm2col() {
    var rng = TestRandom(seed: 17)
    var worst = 0.0
    for c in cases {
      let s = c.shape
      let rows = s.batch * s.outputHeight * s.outputWidth
      let x = rng.array(s.inputCount)
      let cols = rng.array(rows * s.patchSize)
      let unfolded = TestBuffer(repeating: .nan, count: cols.count)
      let xb = TestBuffer(x)
      im2col(unfolded.m, xb.r, shape: s)
      let folded = TestBuffer(repeating: 0, count: s.inputCount)
      // Fold in two blocks to exercise the row-range entry point.
      let split = rows / 2
      let colsBuffer = TestBuffer(cols)
      col2im(
        folded.m, UnsafeBufferPointer(rebasing: colsBuffer.r[0..<(split * s.patchSize)]), shape: s,
        rows: 0..<split)
      col2im(
        folded.m, UnsafeBufferPointer(rebasing: colsBuffer.r[(split * s.patchSize)...]), shape: s,
        rows: split..<rows)
      keep(xb, colsBuffer)
      let lhs = dot64(unfolded.array, cols)
      let rhs = dot64(x, folded.array)
      worst = max(worst, abs(lhs - rhs) / max(abs(lhs), 1))
      XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * max(abs(lhs), 1), "\(s)")
    }
    print("im2col/col2im adjointness: max rel diff \(worst)")
  }
}
