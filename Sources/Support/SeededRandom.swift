// The one seeded random number generator (training, splits, augmentation draws, synthetic data): SplitMix64 (Steele, Lea and Flood, 2014), chosen
// because it is tiny, has no platform-dependent parts and its 64-bit state is the seed itself, so
// `--seed` gives the same initial weights and the same batch order on every machine. Every draw
// below uses only integer arithmetic and IEEE double operations that round the same everywhere.

/// SplitMix64: state += 0x9E3779B97F4A7C15, then the output is the state through `mix`.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  public var state: UInt64

  public init(seed: UInt64) { state = seed }

  /// The SplitMix64 finaliser: a bijective 64-bit hash.
  public static func mix(_ value: UInt64) -> UInt64 {
    var z = value
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A generator for a sub-stream (e.g. one epoch's shuffle) of `seed`: seeded with
  /// `mix(seed + (stream + 1) * 0x9E3779B97F4A7C15)`, so streams of one seed do not overlap in
  /// practice and stream numbers need no coordination beyond being distinct.
  public init(seed: UInt64, stream: UInt64) {
    state = Self.mix(seed &+ (stream &+ 1) &* 0x9E37_79B9_7F4A_7C15)
  }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    return Self.mix(state)
  }

  /// Uniform in [0, 1): the top 53 bits of one draw, scaled exactly.
  public mutating func nextUnit() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// Uniform in 0..<bound without modulo bias: draws below 2^64 mod bound are rejected.
  public mutating func nextIndex(below bound: Int) -> Int {
    precondition(bound > 0)
    let n = UInt64(bound)
    let threshold = (0 &- n) % n
    while true {
      let r = next()
      if r >= threshold { return Int(r % n) }
    }
  }

  /// Standard normal by Box–Muller (the cosine branch only; one normal per two draws). `log`, `cos`
  /// and `sqrt` come from the platform's libm, so this is for tests and synthetic data, not for
  /// weights that must match across platforms.
  public mutating func nextGaussian() -> Double {
    let u1 = 1 - nextUnit()  // (0, 1]: log stays finite
    let u2 = nextUnit()
    return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
  }
}

#if canImport(Glibc)
  import Glibc
  private func _log(_ x: Double) -> Double { Glibc.log(x) }
  private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
  import Foundation
  private func _log(_ x: Double) -> Double { Foundation.log(x) }
  private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif

/// Fisher–Yates shuffle of `values` in place: for i from the last index down to 1, swap element i
/// with element `nextIndex(below: i + 1)`.
public func fisherYatesShuffle<T>(_ values: inout [T], using generator: inout SplitMix64) {
  guard values.count > 1 else { return }
  for i in stride(from: values.count - 1, to: 0, by: -1) {
    let j = generator.nextIndex(below: i + 1)
    if i != j { values.swapAt(i, j) }
  }
}
