// What to augment and how, with Keras' `ImageDataGenerator` argument names and meanings
// (keras/src/legacy/preprocessing/image.py). Only the geometric transforms are modelled:
// channel shifts, brightness, featurewise/samplewise normalisation and ZCA are not.

/// How far images may move along one axis, in one of Keras' `width_shift_range` /
/// `height_shift_range` forms.
public enum ShiftRange: Sendable, Equatable {
  /// No shift (Keras' `0`).
  case none
  /// Keras' float form `r`: the offset is uniform in `[-r, r)`; it is a fraction of the side
  /// length when `r < 1` and a number of pixels otherwise (Keras' rule, `np.max(r) < 1`).
  case uniform(Double)
  /// Keras' int form `n`: a whole number of pixels drawn uniformly from `0..<n`
  /// (`np.random.choice(n)`), then given a random sign.
  case pixels(Int)

  /// True when every draw is 0 (including `.uniform(0)` and `.pixels(1)`).
  public var isNone: Bool {
    switch self {
    case .none: return true
    case .uniform(let r): return r == 0
    case .pixels(let n): return n <= 1
    }
  }

  /// Parses a command-line value the way Python would type it: `"8"` is the int form
  /// (whole pixels), `"0.1"` or `"8.0"` the float form; `"0"` is no shift.
  public init?(argument: String) {
    if let n = Int(argument) {
      self = n == 0 ? .none : .pixels(n)
    } else if let r = Double(argument), r.isFinite {
      self = r == 0 ? .none : .uniform(r)
    } else {
      return nil
    }
  }
}

/// Keras' boundary modes (scipy.ndimage names): what a sample outside the image reads.
public enum FillMode: String, Sendable, CaseIterable {
  /// The edge pixel repeats (`aaaa|abcd|dddd`); Keras' default.
  case nearest
  /// `cval` everywhere outside `[0, side - 1]`; no interpolation across the edge.
  case constant
  /// Half-sample symmetric (`dcba|abcd|dcba`).
  case reflect
  /// scipy's 'wrap', which repeats with period `side - 1` (the first and last pixel share a
  /// position), not the `abcd|abcd` its Keras docstring describes.
  case wrap
}

/// The augmentation asked for, one `ImageDataGenerator(...)` call's geometric arguments.
public struct AugmentationSettings: Sendable, Equatable {
  /// Rotation angles are uniform in `[-rotationRange, rotationRange)` degrees.
  public var rotationRange: Double
  /// Keras' `width_shift_range`. Note Keras' quirk (reproduced): with channels-last images the
  /// width-derived offset `ty` moves rows, see `AugmentationTransform`.
  public var widthShiftRange: ShiftRange
  /// Keras' `height_shift_range`; its offset `tx` moves columns (see `AugmentationTransform`).
  public var heightShiftRange: ShiftRange
  /// Shear angles are uniform in `[-shearRange, shearRange)` degrees.
  public var shearRange: Double
  /// Zoom factors `zx`, `zy` are drawn independently, uniform in `[lower, upper)`; Keras' float
  /// `z` means `[1 - z, 1 + z]`. A factor above 1 samples a wider area (the content shrinks).
  public var zoomRange: (lower: Double, upper: Double)
  /// Mirror left-right with probability 1/2 (after the affine transform, as Keras does).
  public var horizontalFlip: Bool
  /// Mirror top-bottom with probability 1/2.
  public var verticalFlip: Bool
  /// What samples outside the image read; Keras' default is `.nearest`.
  public var fillMode: FillMode
  /// The value outside the image for `.constant` (Keras' `cval`), in the image's own units:
  /// Keras augments the float RGB image before 'caffe' preprocessing, so 0 is black.
  public var cval: Double

  /// Keras' defaults: nothing changes.
  public init(
    rotationRange: Double = 0, widthShiftRange: ShiftRange = .none, heightShiftRange: ShiftRange = .none,
    shearRange: Double = 0, zoomRange: (lower: Double, upper: Double) = (1, 1), horizontalFlip: Bool = false,
    verticalFlip: Bool = false, fillMode: FillMode = .nearest, cval: Double = 0
  ) {
    self.rotationRange = rotationRange
    self.widthShiftRange = widthShiftRange
    self.heightShiftRange = heightShiftRange
    self.shearRange = shearRange
    self.zoomRange = zoomRange
    self.horizontalFlip = horizontalFlip
    self.verticalFlip = verticalFlip
    self.fillMode = fillMode
    self.cval = cval
  }

  /// Keras' float form of `zoom_range`: `z` means factors in `[1 - z, 1 + z]`.
  public static func zoom(_ z: Double) -> (lower: Double, upper: Double) { (1 - z, 1 + z) }

  /// True when no pixel can change: the images are the same every epoch, so a caller may cache
  /// anything computed from them.
  public var isIdentity: Bool {
    rotationRange == 0 && widthShiftRange.isNone && heightShiftRange.isNone && shearRange == 0
      && zoomRange.lower == 1 && zoomRange.upper == 1 && !horizontalFlip && !verticalFlip
  }

  public static func == (a: Self, b: Self) -> Bool {
    a.rotationRange == b.rotationRange && a.widthShiftRange == b.widthShiftRange
      && a.heightShiftRange == b.heightShiftRange && a.shearRange == b.shearRange
      && a.zoomRange.lower == b.zoomRange.lower && a.zoomRange.upper == b.zoomRange.upper
      && a.horizontalFlip == b.horizontalFlip && a.verticalFlip == b.verticalFlip && a.fillMode == b.fillMode
      && a.cval == b.cval
  }

  /// Rejects settings Keras would accept but that make no sense (negative ranges, zoom factors
  /// that are not positive, non-finite numbers), with the option named.
  public func validate() throws(AugmentationError) {
    func check(_ ok: Bool, _ message: String) throws(AugmentationError) {
      if !ok { throw AugmentationError(message) }
    }
    try check(rotationRange.isFinite && rotationRange >= 0, "rotation range must be a number >= 0 degrees")
    try check(shearRange.isFinite && shearRange >= 0, "shear range must be a number >= 0 degrees")
    for (name, range) in [("width", widthShiftRange), ("height", heightShiftRange)] {
      switch range {
      case .none: break
      case .uniform(let r): try check(r.isFinite && r >= 0, "\(name) shift range must be >= 0 (got \(r))")
      case .pixels(let n): try check(n >= 0, "\(name) shift range in pixels must be >= 0 (got \(n))")
      }
    }
    let (lower, upper) = zoomRange
    try check(
      lower.isFinite && upper.isFinite && lower > 0 && lower <= upper,
      "zoom range must satisfy 0 < lower <= upper (got [\(lower), \(upper)]); a single z means [1 - z, 1 + z]")
    try check(cval.isFinite, "fill value (cval) must be a finite number")
  }
}

/// A setting that cannot be used, with a message naming it.
public struct AugmentationError: Error, CustomStringConvertible, Sendable, Equatable {
  public let description: String
  public init(_ description: String) { self.description = description }
}
