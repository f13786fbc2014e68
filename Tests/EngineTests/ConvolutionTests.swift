import XCTest

@testable import Engine

final class ConvolutionTests: XCTestCase {
  /// A sweep over kernel sizes, strides, paddings (including Keras' asymmetric 'same' and
  /// ResNet's 7x7/2 stem) and odd input sizes; fast path vs the naive definition.
  func testFastConvolutionMatchesNaive() {
    struct Case {
      var n, h, w, cin, cout, kh, kw, sh, sw: Int
      var pad: Padding2D?  // nil: Keras 'same'
    }
    let cases: [Case] = [
      Case(n: 2, h: 7, w: 9, cin: 5, cout: 6, kh: 3, kw: 3, sh: 1, sw: 1, pad: nil),
      Case(n: 2, h: 8, w: 8, cin: 4, cout: 7, kh: 3, kw: 3, sh: 2, sw: 2, pad: nil),  // pad bottom/right
      Case(n: 1, h: 9, w: 6, cin: 3, cout: 4, kh: 3, kw: 3, sh: 2, sw: 2, pad: nil),
      Case(n: 3, h: 5, w: 5, cin: 8, cout: 16, kh: 1, kw: 1, sh: 1, sw: 1, pad: .zero),  // plain GEMM
      Case(n: 2, h: 7, w: 8, cin: 8, cout: 12, kh: 1, kw: 1, sh: 2, sw: 2, pad: .zero),  // subsampling
      Case(n: 2, h: 11, w: 13, cin: 3, cout: 8, kh: 7, kw: 7, sh: 2, sw: 2, pad: Padding2D(all: 3)),  // conv1
      Case(
        n: 1, h: 6, w: 7, cin: 2, cout: 3, kh: 2, kw: 3, sh: 1, sw: 2,
        pad: Padding2D(top: 0, bottom: 1, left: 2, right: 0)),
      Case(n: 2, h: 5, w: 4, cin: 3, cout: 5, kh: 5, kw: 5, sh: 1, sw: 1, pad: nil),
      Case(n: 1, h: 4, w: 4, cin: 3, cout: 2, kh: 3, kw: 3, sh: 3, sw: 1, pad: .zero),
      Case(n: 2, h: 3, w: 3, cin: 4, cout: 4, kh: 1, kw: 1, sh: 1, sw: 1, pad: Padding2D(all: 1)),  // pad 1x1
    ]
    var rng = TestRandom(seed: 7)
    var worst: Float = 0
    for (index, c) in cases.enumerated() {
      let pad = c.pad ?? Padding2D.same(height: c.h, width: c.w, window: (c.kh, c.kw), stride: (c.sh, c.sw))
      let window = Window2D(height: c.kh, width: c.kw, strideHeight: c.sh, strideWidth: c.sw, padding: pad)
      let shape = ConvShape(
        batch: c.n, height: c.h, width: c.w, inChannels: c.cin, outChannels: c.cout, window: window)
      let x = rng.array(shape.inputCount)
      let k = rng.array(shape.kernelCount)
      let b = rng.array(c.cout)
      let res = rng.array(shape.outputCount)
      for (useResidual, act) in [(false, Activation.identity), (true, Activation.relu), (false, .relu)] {
        var fast = [Float](repeating: .nan, count: shape.outputCount)
        var naive = [Float](repeating: .nan, count: shape.outputCount)
        // Scratch for 5 rows of columns only: blocks that straddle rows and images.
        var scratch = [Float](repeating: .nan, count: 5 * shape.patchSize)
        x.withUnsafeBufferPointer { xp in
          k.withUnsafeBufferPointer { kp in
            b.withUnsafeBufferPointer { bp in
              res.withUnsafeBufferPointer { rp in
                fast.withUnsafeMutableBufferPointer { out in
                  scratch.withUnsafeMutableBufferPointer { sc in
                    conv2dForward(
                      out, xp, kernel: kp, bias: bp, shape: shape, residual: useResidual ? rp : nil,
                      activation: act, scratch: sc)
                  }
                }
                naive.withUnsafeMutableBufferPointer { out in
                  conv2dForwardNaive(out, xp, kernel: kp, bias: bp, shape: shape)
                  if useResidual { addInPlace(out, rp) }
                  if act == .relu { reluInPlace(out) }
                }
              }
            }
          }
        }
        let d = maxAbsDiff(fast, naive)
        worst = max(worst, d)
        XCTAssertLessThan(d, 1e-5, "case \(index) \(c) residual \(useResidual) \(act)")
      }
    }
    print("conv fast vs naive over \(cases.count) shapes: max |diff| = \(worst)")
  }

  func testKerasSamePaddingIsAsymmetric() {
    // TF/Keras: out = ceil(in / stride); extra padding at the bottom/right.
    XCTAssertEqual(Padding2D.same(size: 8, kernel: 3, stride: 2).before, 0)
    XCTAssertEqual(Padding2D.same(size: 8, kernel: 3, stride: 2).after, 1)
    XCTAssertEqual(Padding2D.same(size: 7, kernel: 3, stride: 2).before, 1)
    XCTAssertEqual(Padding2D.same(size: 7, kernel: 3, stride: 2).after, 1)
    XCTAssertEqual(Padding2D.same(size: 97, kernel: 3, stride: 1).before, 1)
    XCTAssertEqual(Padding2D.same(size: 97, kernel: 3, stride: 1).after, 1)
    XCTAssertEqual(Padding2D.same(size: 5, kernel: 1, stride: 2).after, 0)
  }

  /// <im2col(x), y> == <x, col2im(y)> for random x, y: col2im is the adjoint of im2col.
  func testIm2colCol2imAreAdjoint() {
    var rng = TestRandom(seed: 11)
    let windows = [
      Window2D(height: 3, width: 3, strideHeight: 1, strideWidth: 1, padding: Padding2D(all: 1)),
      Window2D(
        height: 3, width: 3, strideHeight: 2, strideWidth: 2,
        padding: Padding2D(top: 0, bottom: 1, left: 0, right: 1)),
      Window2D(height: 7, width: 7, strideHeight: 2, strideWidth: 2, padding: Padding2D(all: 3)),
      Window2D(
        height: 2, width: 3, strideHeight: 1, strideWidth: 2,
        padding: Padding2D(top: 1, bottom: 0, left: 0, right: 2)),
    ]
    var worst = 0.0
    for window in windows {
      let shape = ConvShape(batch: 2, height: 9, width: 8, inChannels: 3, outChannels: 1, window: window)
      // Small integers: every float sum below is exact, so the identity must hold exactly.
      let x = rng.array(shape.inputCount).map { ($0 * 4).rounded() }
      let y = rng.array(shape.batch * shape.columnsPerImage).map { ($0 * 4).rounded() }
      var cols = [Float](repeating: 0, count: y.count)
      var back = [Float](repeating: 0, count: x.count)
      x.withUnsafeBufferPointer { xp in cols.withUnsafeMutableBufferPointer { im2col($0, xp, shape: shape) } }
      y.withUnsafeBufferPointer { yp in back.withUnsafeMutableBufferPointer { col2im($0, yp, shape: shape) } }
      let lhs = zip(cols, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
      let rhs = zip(x, back).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
      worst = max(worst, abs(lhs - rhs))
      XCTAssertEqual(lhs, rhs, "\(window)")
      XCTAssertNotEqual(lhs, 0)
    }
    print("im2col/col2im adjoint: max |<im2col x, y> - <x, col2im y>| = \(worst)")
  }
}
