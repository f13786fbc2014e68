import XCTest

@testable import Engine

final class DenseTests: XCTestCase {
  /// Fast dense forward/backward (BLAS, transposed GEMMs) against the naive definitions, and
  /// backward against finite differences of L = sum(y * r). Backward must accumulate.
  func testDenseMatchesNaiveAndFiniteDifferences() {
    let (b, i, o) = (5, 7, 3)
    var rng = TestRandom(seed: 21)
    let x = rng.array(b * i)
    let w = rng.array(i * o)
    let bias = rng.array(o)
    let r = rng.array(b * o)  // dL/dy for L = sum(y * r)
    func forward(_ x: [Float], _ w: [Float], _ bias: [Float], naive: Bool = false) -> [Float] {
      var y = [Float](repeating: .nan, count: b * o)
      x.withUnsafeBufferPointer { x in
        w.withUnsafeBufferPointer { w in
          bias.withUnsafeBufferPointer { bias in
            y.withUnsafeMutableBufferPointer { y in
              let f = naive ? denseForwardNaive : denseForward
              f(y, x, w, bias, b, i, o)
            }
          }
        }
      }
      return y
    }
    XCTAssertLessThan(maxAbsDiff(forward(x, w, bias), forward(x, w, bias, naive: true)), 1e-6)
    // Gradients start at 1 to check that backward adds rather than overwrites.
    func backward(naive: Bool) -> (dx: [Float], dw: [Float], db: [Float]) {
      var dx = [Float](repeating: 1, count: b * i)
      var dw = [Float](repeating: 1, count: i * o)
      var db = [Float](repeating: 1, count: o)
      dx.withUnsafeMutableBufferPointer { dx in
        dw.withUnsafeMutableBufferPointer { dw in
          db.withUnsafeMutableBufferPointer { db in
            r.withUnsafeBufferPointer { r in
              x.withUnsafeBufferPointer { x in
                w.withUnsafeBufferPointer { w in
                  let f = naive ? denseBackwardNaive : denseBackward
                  f(dx, dw, db, r, x, w, b, i, o)
                }
              }
            }
          }
        }
      }
      return (dx.map { $0 - 1 }, dw.map { $0 - 1 }, db.map { $0 - 1 })
    }
    let fast = backward(naive: false)
    let naive = backward(naive: true)
    let fastVsNaive = max(
      maxAbsDiff(fast.dx, naive.dx), maxAbsDiff(fast.dw, naive.dw), maxAbsDiff(fast.db, naive.db))
    func loss(_ y: [Float]) -> Float { zip(y, r).reduce(0) { $0 + $1.0 * $1.1 } }
    let numX = centralDifferences(x, h: 1e-2) { loss(forward($0, w, bias)) }
    let numW = centralDifferences(w, h: 1e-2) { loss(forward(x, $0, bias)) }
    let numB = centralDifferences(bias, h: 1e-2) { loss(forward(x, w, $0)) }
    let rel = max(
      maxRelativeError(fast.dx, numX), maxRelativeError(fast.dw, numW), maxRelativeError(fast.db, numB))
    print(
      "dense: fast vs naive backward max |diff| \(fastVsNaive), vs finite differences max rel error \(rel)")
    XCTAssertLessThan(fastVsNaive, 1e-5)
    XCTAssertLessThan(rel, 1e-3)
  }

  /// ReLU and tanh backward against finite differences of L = sum(f(x) * r); softmax rows sum
  /// to 1 and survive huge logits.
  func testActivations() {
    var rng = TestRandom(seed: 5)
    // Keep ReLU inputs away from the kink, which a finite difference would straddle.
    let x = rng.array(40).map { $0 + ($0 >= 0 ? 0.05 : -0.05) }
    let r = rng.array(40)
    for (name, f, back) in [
      ("relu", reluForward, reluBackward),
      ("tanh", tanhForward, tanhBackward),
    ]
      as [(
        String, (UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) -> Void,
        (UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>) -> Void
      )]
    {
      func apply(_ x: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        y.withUnsafeMutableBufferPointer { y in x.withUnsafeBufferPointer { f(y, $0) } }
        return y
      }
      let y = apply(x)
      var dx = [Float](repeating: 0, count: x.count)
      dx.withUnsafeMutableBufferPointer { dx in
        r.withUnsafeBufferPointer { r in y.withUnsafeBufferPointer { back(dx, r, $0) } }
      }
      let numeric = centralDifferences(x, h: 1e-2) { zip(apply($0), r).reduce(0) { $0 + $1.0 * $1.1 } }
      let rel = maxRelativeError(dx, numeric)
      print("\(name): backward vs finite differences max rel error \(rel)")
      XCTAssertLessThan(rel, 1e-3, name)
    }
    var logits: [Float] = [1000, 0, -1000, 1, 2, 3]
    logits.withUnsafeMutableBufferPointer { z in softmaxForward(z, UnsafeBufferPointer(z), rows: 2, width: 3)
    }
    XCTAssertEqual(logits[0], 1)
    XCTAssertEqual(logits[3] + logits[4] + logits[5], 1, accuracy: 1e-6)
    XCTAssertEqual(logits[5], Float(exp(3.0) / (exp(1.0) + exp(2.0) + exp(3.0))), accuracy: 1e-6)
  }
}
