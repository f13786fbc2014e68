// Deterministic synthetic weights, bit for bit as Docs/keras-parity.md specifies them, so the
// NumPy fixture script and Swift produce identical arrays without any file download.

import Dispatch

/// The generator of Docs/keras-parity.md ("Deterministic synthetic weights").
public enum SyntheticWeights {
  /// Every array `parameterSpecs(for: kind)` lists, generated from `seed`.
  /// The arrays are independent, so they are generated on every core at once.
  public static func make(_ kind: BackboneKind, seed: UInt32) -> KerasWeights {
    let specs = parameterSpecs(for: kind)
    let arrays = UnsafeMutableBufferPointer<WeightArray?>.allocate(capacity: specs.count)
    arrays.initialize(repeating: nil)
    defer {
      arrays.deinitialize()
      arrays.deallocate()
    }
    nonisolated(unsafe) let slots = arrays
    DispatchQueue.concurrentPerform(iterations: specs.count) { slots[$0] = array(specs[$0], seed: seed) }
    var weights = KerasWeights()
    for (spec, values) in zip(specs, arrays) { weights.layers[spec.layer, default: [:]][spec.kind] = values }
    return weights
  }

  /// One array: f_i from the hash of "<seed>:<layer>/<role>" and i, scaled per role.
  public static func array(_ spec: ParameterSpec, seed: UInt32) -> WeightArray {
    let key = fnv1a32("\(seed):\(spec.layer)/\(spec.kind.rawValue)")
    let count = spec.shape.reduce(1, *)
    // Scales are computed in float64 and rounded once to float32; the rest is float32.
    let (scale, offset): (Float, Float)
    switch spec.kind {
    case .kernel:
      let fanIn = spec.shape.dropLast().reduce(1, *)
      (scale, offset) = (Float((6.0 / Double(fanIn)).squareRoot()), 0)
    case .bias, .beta, .movingMean: (scale, offset) = (Float(0.1), 0)
    case .gamma: (scale, offset) = (Float(0.25), 1)
    case .movingVariance: (scale, offset) = (Float(0.5), 1)
    }
    var values = [Float](repeating: 0, count: count)
    for i in 0..<count {
      let f = uniform(key: key, index: UInt32(truncatingIfNeeded: i))
      let scaled = f * scale
      values[i] = offset == 0 ? scaled : offset + scaled
    }
    return WeightArray(shape: spec.shape, values: values)
  }

  /// f_i = float32(u_i >> 8) * 2^-23 - 1, u_i = fmix32(key ^ fmix32(i)); exact, in [-1, 1).
  static func uniform(key: UInt32, index: UInt32) -> Float {
    let u = fmix32(key ^ fmix32(index))
    return Float(u >> 8) * 0x1p-23 - 1
  }

  /// MurmurHash3's 32-bit finaliser.
  static func fmix32(_ value: UInt32) -> UInt32 {
    var x = value
    x ^= x >> 16
    x &*= 0x85eb_ca6b
    x ^= x >> 13
    x &*= 0xc2b2_ae35
    x ^= x >> 16
    return x
  }

  /// FNV-1a, 32 bits, over the UTF-8 bytes of `string`.
  static func fnv1a32(_ string: String) -> UInt32 {
    var hash: UInt32 = 0x811c_9dc5
    for byte in string.utf8 {
      hash ^= UInt32(byte)
      hash &*= 0x0100_0193
    }
    return hash
  }
}
