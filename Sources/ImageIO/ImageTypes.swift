// The public vocabulary of ImageIO. Pixels are always (H, W, 3) uint8 RGB, row-major,
// exactly what Keras' `img_to_array(load_img(path))` holds (before its float cast).

/// How `resize` samples the source, named as in Keras' `load_img(interpolation=...)`.
public enum Interpolation: String, CaseIterable, Sendable {
  /// Pillow's NEAREST (Keras' default).
  case nearest
  /// Pillow's BILINEAR: an antialiased triangle-filter convolution when shrinking.
  case bilinear
}

/// What to do with an EXIF orientation tag.
public enum ExifMode: String, CaseIterable, Sendable {
  /// Keep the pixels as stored. Keras' `load_img` does this.
  case ignore
  /// Turn the pixels upright like `PIL.ImageOps.exif_transpose`, before any resize.
  case apply
}

/// Why an image could not be loaded: one line a person can act on.
public struct ImageError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// An 8-bit RGB image; `pixels` is (height, width, 3), row-major.
public struct RGBImage: Sendable, Equatable {
  public var width: Int
  public var height: Int
  public var pixels: [UInt8]  // (H, W, 3)

  public init(width: Int, height: Int, pixels: [UInt8]) {
    precondition(
      width >= 0 && height >= 0 && pixels.count == width * height * 3,
      "RGBImage: \(pixels.count) bytes for \(width)x\(height)x3")
    self.width = width
    self.height = height
    self.pixels = pixels
  }
}

/// Settings for `loadImage`, mirroring `keras.utils.load_img(target_size=(height, width),
/// interpolation=...)`.
public struct LoadOptions: Sendable {
  public var height: Int
  public var width: Int
  public var interpolation: Interpolation
  public var exif: ExifMode
  /// Images with more pixels are refused before their pixels are decoded. The default is the
  /// point where Pillow raises DecompressionBombError (2 x Image.MAX_IMAGE_PIXELS).
  public var maxPixels: Int

  public init(
    height: Int = 224, width: Int = 224, interpolation: Interpolation = .nearest,
    exif: ExifMode = .ignore, maxPixels: Int = defaultMaxPixels
  ) {
    self.height = height
    self.width = width
    self.interpolation = interpolation
    self.exif = exif
    self.maxPixels = maxPixels
  }
}

/// Pillow's DecompressionBombError threshold: 2 * (1024 * 1024 * 1024 / 4 / 3) pixels.
public let defaultMaxPixels = 178_956_970

/// An image as the network sees it.
public struct LoadedImage: Sendable {
  /// Resized to the target size.
  public var image: RGBImage
  /// The file's EXIF orientation (1..8), 1 when there is none; reported in both EXIF modes.
  public var exifOrientation: Int
}
