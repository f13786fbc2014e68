// WebP decoding through libwebp, the way Pillow 13 decodes every WebP file: with libwebpdemux's
// WebPAnimDecoder (still images are one-frame animations to it), in non-premultiplied RGBA,
// taking the first frame. convert('RGB') then drops alpha without compositing, so pixels under
// full transparency keep whatever colour the file stores. Output is (H, W, 3) uint8.
import CWebP

/// WebP file bytes -> RGB pixels of the first frame, and the orientation of an EXIF chunk.
func decodeWebP(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) throws(ImageError)
  -> (RGBImage, orientation: Int?)
{
  let data = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
  // Like Pillow, the size in the first chunk's header is checked before anything else looks at
  // the file, so a bomb is reported as one even when the rest of the file is inconsistent.
  if let (width, height) = webPHeaderSize(bytes) {
    try checkPixelLimit(width: width, height: height, maxPixels: maxPixels)
  }
  // The canvas size from the header alone (VP8X's for extended files), checked before the
  // animation decoder allocates its canvases.
  var features = WebPBitstreamFeatures()
  let status = WebPGetFeatures(data, bytes.count, &features)
  guard status == VP8_STATUS_OK else {
    throw ImageError(
      status == VP8_STATUS_NOT_ENOUGH_DATA
        ? "truncated WebP: the file ends after \(bytes.count) bytes, inside its header"
        : "corrupt WebP: unreadable header (libwebp status \(status.rawValue))")
  }
  try checkPixelLimit(width: features.width, height: features.height, maxPixels: maxPixels)
  var options = WebPAnimDecoderOptions()
  guard WebPAnimDecoderOptionsInit(&options) != 0 else {
    throw ImageError("internal error: libwebpdemux rejected its own options (version mismatch)")
  }
  options.color_mode = MODE_RGBA  // Pillow's choice: not premultiplied
  options.use_threads = 0
  var webp = WebPData(bytes: data, size: bytes.count)
  guard let decoder = WebPAnimDecoderNew(&webp, &options) else {
    // The demuxer validates the whole container before anything is decoded.
    throw ImageError("corrupt or truncated WebP: libwebp cannot parse its chunks")
  }
  defer { WebPAnimDecoderDelete(decoder) }
  var info = WebPAnimInfo()
  guard WebPAnimDecoderGetInfo(decoder, &info) != 0 else {
    throw ImageError("corrupt WebP: no canvas information")
  }
  let width = Int(info.canvas_width)
  let height = Int(info.canvas_height)
  try checkPixelLimit(width: width, height: height, maxPixels: maxPixels)
  var canvas: UnsafeMutablePointer<UInt8>? = nil
  var timestamp: Int32 = 0
  guard WebPAnimDecoderGetNext(decoder, &canvas, &timestamp) != 0, let rgba = canvas else {
    throw ImageError("corrupt or truncated WebP: libwebp cannot decode its first frame")
  }
  // (H, W, 4) RGBA, owned by the decoder -> (H, W, 3).
  var rgb = [UInt8](repeating: 0, count: width * height * 3)
  rgb.withUnsafeMutableBufferPointer { out in
    for i in 0..<(width * height) {
      out[3 * i] = rgba[4 * i]
      out[3 * i + 1] = rgba[4 * i + 1]
      out[3 * i + 2] = rgba[4 * i + 2]
    }
  }
  let orientation = webPExifOrientation(WebPAnimDecoderGetDemuxer(decoder))
  return (RGBImage(width: width, height: height, pixels: rgb), orientation)
}

/// The Orientation in the file's EXIF chunk, where Pillow's `getexif()` finds it.
private func webPExifOrientation(_ demuxer: OpaquePointer?) -> Int? {
  guard let demuxer else { return nil }
  var chunk = WebPChunkIterator()
  defer { WebPDemuxReleaseChunkIterator(&chunk) }
  guard WebPDemuxGetChunk(demuxer, "EXIF", 1, &chunk) != 0, let bytes = chunk.chunk.bytes else { return nil }
  return exifOrientation(UnsafeRawBufferPointer(start: bytes, count: chunk.chunk.size))
}

/// The image (VP8, VP8L) or canvas (VP8X) size written in the first chunk's header, nil when
/// the first 30 bytes do not hold one. WebP container specification, "Simple file format" and
/// "Extended file format"; VP8L's header is RFC 9649 section 3.2, VP8's RFC 6386 section 9.1.
func webPHeaderSize(_ bytes: UnsafeRawBufferPointer) -> (width: Int, height: Int)? {
  guard bytes.count >= 30 else { return nil }
  func le(_ at: Int, _ count: Int) -> Int {
    (0..<count).reduce(0) { value, i in value | Int(bytes[at + i]) << (8 * i) }
  }
  switch (bytes[12], bytes[13], bytes[14], bytes[15]) {
  case (0x56, 0x50, 0x38, 0x58):  // "VP8X": 24-bit width - 1 and height - 1
    return (le(24, 3) + 1, le(27, 3) + 1)
  case (0x56, 0x50, 0x38, 0x20):  // "VP8 ": a key frame's start code, then 14-bit sizes
    guard bytes[23] == 0x9D, bytes[24] == 0x01, bytes[25] == 0x2A else { return nil }
    return (le(26, 2) & 0x3FFF, le(28, 2) & 0x3FFF)
  case (0x56, 0x50, 0x38, 0x4C):  // "VP8L": signature 0x2F, then 14-bit width - 1 and height - 1
    guard bytes[20] == 0x2F else { return nil }
    let bits = le(21, 4)
    return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
  default:
    return nil
  }
}

/// "RIFF", four bytes of size, "WEBP".
func isWebP(_ bytes: UnsafeRawBufferPointer) -> Bool {
  guard bytes.count >= 12 else { return false }
  return bytes.prefix(4).elementsEqual([0x52, 0x49, 0x46, 0x46])
    && bytes[8..<12].elementsEqual([0x57, 0x45, 0x42, 0x50])
}
