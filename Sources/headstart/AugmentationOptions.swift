// The augmentation flags, named after Keras' `ImageDataGenerator` arguments so that
// `ImageDataGenerator(rotation_range=10, zoom_range=0.1, horizontal_flip=True,
// preprocessing_function=preprocess_input)` reads as `--rotation-range 10 --zoom-range 0.1
// --horizontal-flip`. Numbers parse `.unconditional`ly so that a negative value reaches
// `validate()` (and its one-line message) instead of being taken for an option.

import ArgumentParser
import Augmentation

struct AugmentationOptions: ParsableArguments {
  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Rotate by a random angle in [-DEG, DEG) degrees (rotation_range).", valueName: "deg"))
  var rotationRange: Double = 0

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Shift by a random offset (width_shift_range): a float r < 1 is a fraction of the width, r >= 1 "
        + "pixels, uniform in [-r, r); an integer n is whole pixels in (-n, n). Keras moves rows with it.",
      valueName: "r|n"))
  var widthShiftRange: String = "0"

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Shift by a random offset (height_shift_range), as --width-shift-range; Keras moves columns with it.",
      valueName: "r|n"))
  var heightShiftRange: String = "0"

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Shear by a random angle in [-DEG, DEG) degrees (shear_range).", valueName: "deg"))
  var shearRange: Double = 0

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Zoom rows and columns by independent random factors (zoom_range): z means [1-z, 1+z], 'lo,hi' that "
        + "range; a factor above 1 shrinks the content.",
      valueName: "z|lo,hi"))
  var zoomRange: String = "0"

  @Flag(help: "Mirror left-right with probability 1/2 (horizontal_flip).")
  var horizontalFlip = false

  @Flag(help: "Mirror top-bottom with probability 1/2 (vertical_flip).")
  var verticalFlip = false

  @Option(
    help: ArgumentHelp(
      "What samples outside the image read: nearest (Keras' default), constant, reflect or wrap (fill_mode).",
      valueName: "mode"))
  var fillMode: String = "nearest"

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "The value outside the image for --fill-mode constant, in RGB units 0-255 (cval).",
      valueName: "value"))
  var cval: Double = 0

  @Option(
    help: ArgumentHelp(
      "Seed of the random transforms (one stream per epoch and image, so a resumed run draws the same). With "
        + "any augmentation the frozen prefix runs every epoch on the training images (no cache); validation "
        + "images are never augmented.",
      valueName: "n"))
  var augmentSeed: UInt64 = 0

  mutating func validate() throws { _ = try settings() }

  /// The flags as the Augmentation library's settings, checked; a bad value is a ValidationError
  /// naming its flag.
  func settings() throws -> AugmentationSettings {
    guard let width = ShiftRange(argument: widthShiftRange) else {
      throw ValidationError("--width-shift-range \(widthShiftRange): expected a number (0.1, or 8 pixels)")
    }
    guard let height = ShiftRange(argument: heightShiftRange) else {
      throw ValidationError("--height-shift-range \(heightShiftRange): expected a number (0.1, or 8 pixels)")
    }
    guard let fill = FillMode(rawValue: fillMode) else {
      throw ValidationError("--fill-mode \(fillMode): expected nearest, constant, reflect or wrap")
    }
    let bounds = zoomRange.split(separator: ",", omittingEmptySubsequences: false).map { Double($0) }
    let zoom: (lower: Double, upper: Double)
    switch bounds.count {
    case 1 where bounds[0] != nil: zoom = AugmentationSettings.zoom(bounds[0]!)
    case 2 where bounds[0] != nil && bounds[1] != nil: zoom = (bounds[0]!, bounds[1]!)
    default: throw ValidationError("--zoom-range \(zoomRange): expected a number z or two numbers 'lo,hi'")
    }
    let settings = AugmentationSettings(
      rotationRange: rotationRange, widthShiftRange: width, heightShiftRange: height, shearRange: shearRange,
      zoomRange: zoom, horizontalFlip: horizontalFlip, verticalFlip: verticalFlip, fillMode: fill, cval: cval)
    do {
      try settings.validate()
    } catch {
      throw ValidationError("bad augmentation flags: \(error.description)")
    }
    return settings
  }
}
