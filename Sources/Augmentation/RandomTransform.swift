// Drawing one transform, with the distributions of Keras' `get_random_transform` and in its
// order (theta, tx, ty, shear, zx and zy, the two flip coins). Keras draws from NumPy's global
// stream; we draw from the caller's seeded generator (the tools pass Support's SplitMix64, one
// stream per image and epoch), so the same seed gives the same transforms on every platform
// but not Keras' own numbers.

/// Draws the parameters of one augmentation for an image of `height` x `width` pixels.
/// Ranges that are zero draw nothing, as in Keras; the two flip coins are always drawn.
public func randomTransform(
  _ settings: AugmentationSettings, height: Int, width: Int, using generator: inout some RandomNumberGenerator
) -> AugmentationTransform {
  var t = AugmentationTransform.identity
  if settings.rotationRange != 0 {
    t.theta = uniform(-settings.rotationRange, settings.rotationRange, &generator)
  }
  // Keras: tx comes from height_shift_range and scales with the rows, ty from the width.
  t.tx = shift(settings.heightShiftRange, side: height, &generator)
  t.ty = shift(settings.widthShiftRange, side: width, &generator)
  if settings.shearRange != 0 {
    t.shear = uniform(-settings.shearRange, settings.shearRange, &generator)
  }
  let (lower, upper) = settings.zoomRange
  if !(lower == 1 && upper == 1) {
    t.zx = uniform(lower, upper, &generator)
    t.zy = uniform(lower, upper, &generator)
  }
  let flipH = unit(&generator) < 0.5
  let flipV = unit(&generator) < 0.5
  t.flipHorizontal = flipH && settings.horizontalFlip
  t.flipVertical = flipV && settings.verticalFlip
  return t
}

/// One shift in pixels for `range` along a side of `side` pixels.
private func shift(_ range: ShiftRange, side: Int, _ g: inout some RandomNumberGenerator) -> Double {
  switch range {
  case .none:
    return 0
  case .uniform(let r):
    if r == 0 { return 0 }
    let offset = uniform(-r, r, &g)
    return r < 1 ? offset * Double(side) : offset
  case .pixels(let n):
    if n <= 0 { return 0 }
    let magnitude = Double(index(below: n, &g))  // np.random.choice(n)
    return index(below: 2, &g) == 0 ? -magnitude : magnitude  // * np.random.choice([-1, 1])
  }
}

/// NumPy's `uniform(low, high)`: `low + (high - low) * u` with u uniform in [0, 1).
private func uniform(_ low: Double, _ high: Double, _ g: inout some RandomNumberGenerator) -> Double {
  low + (high - low) * unit(&g)
}

/// Uniform in [0, 1): the top 53 bits of one 64-bit draw (as Support's `SplitMix64.nextUnit`).
private func unit(_ g: inout some RandomNumberGenerator) -> Double {
  Double(g.next() >> 11) * 0x1.0p-53
}

/// Uniform in 0..<bound without modulo bias: draws below 2^64 mod bound are rejected.
private func index(below bound: Int, _ g: inout some RandomNumberGenerator) -> Int {
  let n = UInt64(bound)
  let threshold = (0 &- n) % n
  while true {
    let r = g.next()
    if r >= threshold { return Int(r % n) }
  }
}

extension AugmentationSettings {
  /// Keras' `random_transform`: draws one transform for this (H, W, C) image, applies it from
  /// `input` into `output` (same shape, not overlapping) with these settings' fill mode and
  /// cval, and returns the transform drawn (for logs and tests).
  @discardableResult
  public func augment(
    _ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>, height: Int, width: Int,
    channels: Int, using generator: inout some RandomNumberGenerator
  ) -> AugmentationTransform {
    let transform = randomTransform(self, height: height, width: width, using: &generator)
    transform.apply(
      input, into: output, height: height, width: width, channels: channels, fillMode: fillMode, cval: cval)
    return transform
  }
}
