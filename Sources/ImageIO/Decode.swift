// Entry points: bytes -> RGB (decodeImage) and path or bytes -> resized RGB (loadImage), the Swift
// counterpart of Keras' `img_to_array(load_img(path, target_size=(h, w),
// interpolation=...))`: open with Pillow, convert('RGB'), resize only if the size differs.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Decodes a JPEG, PNG, BMP, PNM (PBM, PGM, PPM), TIFF, WebP or GIF image (recognised by its first
/// bytes, never by the file name) to RGB as Pillow's `Image.open(...).convert('RGB')` would,
/// refusing images with more than `maxPixels` pixels before decoding them. With `.apply`, EXIF
/// orientation is undone first. Safe to call from several threads at once.
public func decodeImage(
  _ bytes: UnsafeRawBufferPointer, exif: ExifMode = .ignore,
  maxPixels: Int = defaultMaxPixels
) throws(ImageError)
  -> (RGBImage, exifOrientation: Int)
{
  guard bytes.count > 0 else { throw ImageError("empty file") }
  let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF]
  let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
  let decoded: (RGBImage, orientation: Int?)
  if bytes.starts(with: jpeg) {
    decoded = try decodeJPEG(bytes, maxPixels: maxPixels)
  } else if bytes.starts(with: png) {
    decoded = try decodePNG(bytes, maxPixels: maxPixels)
  } else if bytes.starts(with: [0x42, 0x4D]) {  // "BM"
    decoded = (try decodeBMP(bytes, maxPixels: maxPixels), nil)
  } else if isPNM(bytes) {
    decoded = (try decodePNM(bytes, maxPixels: maxPixels), nil)
  } else if isTIFF(bytes) {
    decoded = try decodeTIFF(bytes, maxPixels: maxPixels)
  } else if isWebP(bytes) {
    decoded = try decodeWebP(bytes, maxPixels: maxPixels)
  } else if isGIF(bytes) {
    decoded = try decodeGIF(bytes, maxPixels: maxPixels)
  } else {
    throw ImageError("not an image Headstart reads (\(readFormats); starts with \(describePrefix(bytes)))")
  }
  let orientation = decoded.orientation ?? 1
  let image =
    exif == .apply
    ? applyExifOrientation(decoded.0, orientation: orientation) : decoded.0
  return (image, orientation)
}

/// "P1" to "P6" followed by whitespace, as Pillow recognises PBM, PGM and PPM files.
private func isPNM(_ bytes: UnsafeRawBufferPointer) -> Bool {
  bytes.count >= 3 && bytes[0] == 0x50 && (0x31...0x36).contains(bytes[1])
    && (bytes[2] == 0x20 || (0x09...0x0D).contains(bytes[2]))
}

/// Reads, decodes and resizes one image file to `options.height` x `options.width`.
public func loadImage(at path: String, options: LoadOptions) throws(ImageError) -> LoadedImage {
  try loadImage(atPathBytes: Array(path.utf8), shownAs: path, options: options)
}

/// `loadImage(at:options:)` for a path given as the file system's raw bytes, which need not be
/// UTF-8 (a Latin-1 file name); `name` stands for the path in error messages.
public func loadImage(atPathBytes path: [UInt8], shownAs name: String, options: LoadOptions) throws(ImageError)
  -> LoadedImage
{
  try checkTargetSize(options)
  let bytes = try readImageFile(atPathBytes: path, shownAs: name)
  // Array.withUnsafeBytes only rethrows untyped errors; carry ours out in a Result.
  let loaded = bytes.withUnsafeBytes { buffer in
    Result { () throws(ImageError) in try loadImage(bytes: buffer, options: options) }
  }
  return try loaded.get()
}

/// Decodes and resizes an image file's bytes to `options.height` x `options.width`: what
/// `loadImage(at:options:)` does once it has read the file (the fuzz target in Fuzz/ calls this).
public func loadImage(bytes: UnsafeRawBufferPointer, options: LoadOptions) throws(ImageError) -> LoadedImage {
  try checkTargetSize(options)
  let (image, orientation) = try decodeImage(bytes, exif: options.exif, maxPixels: options.maxPixels)
  let resized = resize(
    image, height: options.height, width: options.width,
    interpolation: options.interpolation)
  return LoadedImage(image: resized, exifOrientation: orientation)
}

/// The formats `decodeImage` recognises, for messages.
let readFormats = "JPEG, PNG, BMP, PNM, TIFF, WebP or GIF"

/// A target size must be positive; checked before the file is read.
private func checkTargetSize(_ options: LoadOptions) throws(ImageError) {
  guard options.height > 0 && options.width > 0 else {
    throw ImageError("target size \(options.height)x\(options.width) must be positive")
  }
}

/// Pillow's decompression-bomb rule: refuse when width * height exceeds the limit.
func checkPixelLimit(width: some BinaryInteger, height: some BinaryInteger, maxPixels: Int)
  throws(ImageError)
{
  let (pixels, overflow) = Int(width).multipliedReportingOverflow(by: Int(height))
  if overflow || pixels > maxPixels {
    throw ImageError(
      "image is \(width)x\(height) = \(pixels) pixels, which exceeds the limit of "
        + "\(maxPixels) pixels (a possible decompression bomb)")
  }
}

/// "74 68 69 73 20 69 73 20 "this is "" - enough for a person to recognise the format.
private func describePrefix(_ bytes: UnsafeRawBufferPointer) -> String {
  let head = bytes.prefix(8)
  let hex = head.map { b in
    let s = String(b, radix: 16)
    return s.count == 1 ? "0" + s : s
  }.joined(separator: " ")
  let text = String(head.map { (0x20..<0x7F).contains($0) ? Character(UnicodeScalar($0)) : "." })
  return "\(hex) \"\(text)\""
}

/// The whole file at `path` (the file system's raw bytes, not necessarily UTF-8), or a reason it
/// could not be read; `name` stands for the path in the reason.
public func readImageFile(atPathBytes path: [UInt8], shownAs name: String) throws(ImageError) -> [UInt8] {
  // A NUL would cut the C string short and open another file.
  guard !path.contains(0) else { throw ImageError("cannot open \(name): the path contains a NUL byte") }
  let cPath = path.map { CChar(bitPattern: $0) } + [0]
  guard let file = fopen(cPath, "rb") else {
    throw ImageError("cannot open \(name): \(String(cString: strerror(errno)))")
  }
  defer { fclose(file) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 1 << 16)
  while true {
    let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
    if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
    if n < chunk.count {
      if ferror(file) != 0 {
        throw ImageError("cannot read \(name): \(String(cString: strerror(errno)))")
      }
      return bytes
    }
  }
}
