import Engine

/// A tiny deterministic generator (xorshift32) so tests need no fixtures for random data.
struct TestRandom {
  var state: UInt32
  init(seed: UInt32) { state = seed == 0 ? 0x9E37_79B9 : seed }
  mutating func next() -> Float {
    state ^= state << 13
    state ^= state >> 17
    state ^= state << 5
    return Float(state >> 8) / Float(1 << 24) * 2 - 1
  }
  mutating func array(_ count: Int) -> [Float] { (0..<count).map { _ in next() } }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
  precondition(a.count == b.count)
  var m: Float = 0
  for i in 0..<a.count { m = max(m, abs(a[i] - b[i])) }
  return m
}
