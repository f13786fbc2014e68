// Helpers for the backward-pass tests: buffers that outlive a closure, and float64 dot
// products for the losses L = sum(y * r) whose finite differences the gradients are checked
// against.
import Engine

/// A heap buffer of floats owned by the test, so calls into the engine need no nested
/// `withUnsafe...` closures. Freed when the object goes away.
final class TestBuffer {
  let storage: UnsafeMutableBufferPointer<Float>

  init(_ values: [Float]) {
    storage = .allocate(capacity: max(values.count, 1))
    _ = storage.initialize(from: values)
    if values.isEmpty { storage[0] = 0 }
    count = values.count
  }

  convenience init(repeating value: Float, count: Int) {
    self.init([Float](repeating: value, count: count))
  }

  deinit { storage.deallocate() }

  let count: Int
  /// The buffer for writing (exactly `count` floats).
  var m: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(rebasing: storage[0..<count]) }
  /// The buffer for reading.
  var r: UnsafeBufferPointer<Float> { UnsafeBufferPointer(m) }
  var array: [Float] { Array(r) }
}

/// Keeps test buffers alive up to this call: Swift may release an object after its last use,
/// which for a `TestBuffer` is when its pointer is taken, not when the engine reads it. Call at
/// the end of the scope that lends the pointers.
func keep(_ buffers: TestBuffer...) { withExtendedLifetime(buffers) {} }

/// sum(a * b) in float64.
func dot64(_ a: [Float], _ b: [Float]) -> Double {
  precondition(a.count == b.count)
  var s = 0.0
  for i in 0..<a.count { s += Double(a[i]) * Double(b[i]) }
  return s
}

/// Central differences of f at x in float32 steps of h, with f evaluated in float64: the
/// gradient of a float64 loss of float32 parameters.
func centralDifferences64(_ x: [Float], h: Float, _ f: ([Float]) -> Double) -> [Float] {
  var probe = x
  var out = [Float](repeating: 0, count: x.count)
  for i in 0..<x.count {
    probe[i] = x[i] + h
    let up = f(probe)
    probe[i] = x[i] - h
    let down = f(probe)
    probe[i] = x[i]
    out[i] = Float((up - down) / Double((x[i] + h) - (x[i] - h)))
  }
  return out
}
