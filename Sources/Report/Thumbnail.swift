// Small JPEG thumbnails of the original images, for embedding in the page as data: URIs:
// decoded with ImageIO (EXIF orientation applied, as a person expects to see the image),
// shrunk with its antialiased bilinear resize, and compressed with libjpeg (CShims).

import CShims
import Foundation
import ImageIO

/// `rgb` (height, width, 3) compressed to a baseline JPEG at `quality` (1-100).
public func encodeJPEG(_ image: RGBImage, quality: Int = 82) throws(ImageError) -> [UInt8] {
  var output: UnsafeMutablePointer<UInt8>?
  var size = 0
  var message = [CChar](repeating: 0, count: Int(HS_IMAGE_MESSAGE_CAPACITY))
  let status = image.pixels.withUnsafeBufferPointer { pixels in
    hs_jpeg_encode(
      pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(quality), &output, &size, &message,
      message.count)
  }
  defer { hs_jpeg_free(output) }
  guard status == 0, let output else {
    throw ImageError(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
  }
  return Array(UnsafeBufferPointer(start: output, count: size))
}

/// The image at `path` as a thumbnail whose longer side is at most `maxSide` pixels (smaller
/// images are kept as they are), or the reason it cannot be shown. Never throws: a missing or
/// broken image is a placeholder in the report, not a failed run.
public func makeThumbnail(path: String, maxSide: Int = 128, quality: Int = 82) -> Thumbnail {
  makeThumbnail(pathBytes: Array(path.utf8), shownAs: path, maxSide: maxSide, quality: quality)
}

/// `makeThumbnail(path:)` for a path given as the file system's raw bytes (a file name need not
/// be UTF-8); `name` stands for the path in the reason.
public func makeThumbnail(pathBytes: [UInt8], shownAs name: String, maxSide: Int = 128, quality: Int = 82)
  -> Thumbnail
{
  do throws(ImageError) {
    let data = try readThumbnailSource(pathBytes, shownAs: name)
    let decoded = data.withUnsafeBytes { bytes in
      Result { () throws(ImageError) in try decodeImage(bytes, exif: .apply).0 }
    }
    let image = try decoded.get()
    let scale = min(1, Double(maxSide) / Double(max(image.width, image.height)))
    let width = max(1, Int((Double(image.width) * scale).rounded()))
    let height = max(1, Int((Double(image.height) * scale).rounded()))
    let small = resize(image, height: height, width: width, interpolation: .bilinear)
    return .jpeg(try encodeJPEG(small, quality: quality), width: width, height: height)
  } catch {
    return .unavailable(error.description)
  }
}

/// The file's bytes; a file that is not there is said to be missing, in so many words.
private func readThumbnailSource(_ path: [UInt8], shownAs name: String) throws(ImageError) -> [UInt8] {
  do {
    return try readImageFile(atPathBytes: path, shownAs: name)
  } catch {
    let exists = !path.contains(0) && access(path.map { CChar(bitPattern: $0) } + [0], F_OK) == 0
    throw ImageError(exists ? "cannot read \(name)" : "no such file: \(name)")
  }
}

/// `data:image/jpeg;base64,...` for JPEG bytes.
func dataURI(jpeg: [UInt8]) -> String {
  "data:image/jpeg;base64," + Data(jpeg).base64EncodedString()
}
