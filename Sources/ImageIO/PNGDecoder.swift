// PNG decoding through libpng (via the CShims setjmp wrapper), converted to RGB the way
// Pillow's `Image.open(...).convert('RGB')` does: alpha dropped (not composited), palettes
// looked up, gray replicated, 16-bit samples reduced as Pillow's raw modes do.
// Output is (H, W, 3) uint8.
import CShims
import Support

/// PNG file bytes -> RGB pixels and the orientation from an eXIf chunk, if any.
func decodePNG(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) throws(ImageError)
  -> (RGBImage, orientation: Int?)
{
  let layout = try readPNGChunks(bytes)
  try checkPixelLimit(width: layout.width, height: layout.height, maxPixels: maxPixels)
  let data = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
  var result = hs_png_result()
  var message = [CChar](repeating: 0, count: Int(HS_IMAGE_MESSAGE_CAPACITY))
  // Generous bound for libpng's output (16-bit RGBA is 8 bytes a pixel), checked in C.
  var raw = [UInt8](repeating: 0, count: layout.width * layout.height * layout.bytesPerPixel)
  let status = raw.withUnsafeMutableBufferPointer { out in
    hs_png_decode(
      data, bytes.count, out.baseAddress, out.count, &result, &message,
      message.count)
  }
  if status != 0 { throw ImageError(cString(message)) }
  let rgb = try pngToRGB(raw, result)
  return (
    RGBImage(width: Int(result.width), height: Int(result.height), pixels: rgb),
    layout.orientation
  )
}

/// What the chunk walk learns before libpng runs.
struct PNGLayout {
  var width: Int
  var height: Int
  var bytesPerPixel: Int  // of libpng's unpacked output, rounded up
  var orientation: Int?
}

/// Checks the signature, IHDR, the CRC of every chunk before the first IDAT (the chunks Pillow
/// verifies while opening) and Pillow's limits on text and ICC chunks anywhere in the file
/// (PNGTextChunks.swift), and finds an eXIf chunk anywhere in the file.
func readPNGChunks(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> PNGLayout {
  func u32(_ at: Int) -> Int {
    Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
  }
  guard bytes.count >= 33 else {
    throw ImageError("truncated PNG: only \(bytes.count) bytes, too short for a PNG header")
  }
  guard u32(12) == 0x4948_4452, u32(8) == 13 else {  // "IHDR"
    throw ImageError("corrupt PNG: the first chunk is not a 13-byte IHDR")
  }
  let width = u32(16)
  let height = u32(20)
  let bitDepth = Int(bytes[24])
  let colorType = Int(bytes[25])
  let channels: Int
  switch colorType {
  case 0, 3: channels = 1
  case 2: channels = 3
  case 4: channels = 2
  case 6: channels = 4
  default: throw ImageError("corrupt PNG: unknown colour type \(colorType)")
  }
  guard [1, 2, 4, 8, 16].contains(bitDepth) else {
    throw ImageError("corrupt PNG: invalid bit depth \(bitDepth)")
  }
  guard width > 0, height > 0 else {
    throw ImageError("corrupt PNG: image size \(width)x\(height)")
  }
  var layout = PNGLayout(
    width: width, height: height,
    bytesPerPixel: channels * (bitDepth == 16 ? 2 : 1), orientation: nil)
  var at = 8
  var seenIDAT = false
  var text = PNGTextChunks()
  while at + 12 <= bytes.count {
    let length = u32(at)
    let type = u32(at + 4)
    guard length <= bytes.count - at - 12 else { break }  // libpng reports the truncation
    if type == 0x4944_4154 { seenIDAT = true }  // "IDAT"
    let body = UnsafeRawBufferPointer(rebasing: bytes[(at + 8)..<(at + 8 + length)])
    if !seenIDAT {
      let typeAndBody = UnsafeRawBufferPointer(rebasing: bytes[(at + 4)..<(at + 8 + length)])
      if CRC32.update(0, typeAndBody) != UInt32(u32(at + 8 + length)) {
        throw ImageError("corrupt PNG: CRC error in the \(chunkName(type)) chunk at byte \(at)")
      }
    }
    if type == 0x6558_4966 && layout.orientation == nil {  // "eXIf"
      layout.orientation = exifOrientation(body)
    }
    try text.check(type: type, body: body, at: at)
    if type == 0x4945_4E44 { break }  // "IEND"
    at += 12 + length
  }
  return layout
}

func chunkName(_ type: Int) -> String {
  let scalars = [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: type >> $0) }
  return String(decoding: scalars, as: UTF8.self)
}

/// libpng's untransformed rows (sub-byte samples unpacked) -> (H, W, 3) RGB, per Pillow's
/// PNG raw modes and convert('RGB'):
/// * gray 1/2/4-bit is scaled to 0...255 ("1", "L;2", "L;4"); gray 16-bit is mode "I;16",
///   which convert('RGB') clips to 255 (not the high byte!);
/// * every other 16-bit sample keeps its high byte ("RGB;16B", "RGBA;16B", "LA;16B");
/// * palette indices past the end of PLTE read as black (Pillow's zero-filled palette);
/// * tRNS and alpha are ignored: convert('RGB') drops alpha without compositing.
func pngToRGB(_ raw: [UInt8], _ r: hs_png_result) throws(ImageError) -> [UInt8] {
  let w = Int(r.width)
  let h = Int(r.height)
  let depth = Int(r.bit_depth)
  let rowBytes = r.row_bytes
  var out = [UInt8](repeating: 0, count: w * h * 3)
  var palette = [UInt8](repeating: 0, count: 256 * 3)
  withUnsafeBytes(of: r.palette) { p in
    for i in 0..<(3 * Int(r.palette_entries)) { palette[i] = p[i] }
  }
  let colorType = Int(r.color_type)
  let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType] ?? 0
  let sampleBytes = depth == 16 ? 2 : 1
  guard rowBytes == w * channels * sampleBytes else {
    throw ImageError("internal error: unexpected PNG row size \(rowBytes) for \(w) pixels")
  }
  let grayScale = [1: 255, 2: 85, 4: 17, 8: 1, 16: 1][depth]!
  raw.withUnsafeBufferPointer { src in
    out.withUnsafeMutableBufferPointer { dst in
      for y in 0..<h {
        let row = y * rowBytes
        var d = y * w * 3
        for x in 0..<w {
          let s = row + x * channels * sampleBytes
          switch colorType {
          case 3:
            let i = 3 * Int(src[s])
            dst[d] = palette[i]
            dst[d + 1] = palette[i + 1]
            dst[d + 2] = palette[i + 2]
          case 0:
            let v: UInt8
            if depth == 16 {
              v = UInt8(clamping: Int(src[s]) << 8 | Int(src[s + 1]))
            } else {
              v = UInt8(truncatingIfNeeded: Int(src[s]) * grayScale)
            }
            dst[d] = v
            dst[d + 1] = v
            dst[d + 2] = v
          case 4:
            dst[d] = src[s]
            dst[d + 1] = src[s]
            dst[d + 2] = src[s]
          default:  // 2 and 6: R, G, B first; for 16-bit the high bytes come first
            dst[d] = src[s]
            dst[d + 1] = src[s + sampleBytes]
            dst[d + 2] = src[s + 2 * sampleBytes]
          }
          d += 3
        }
      }
    }
  }
  return out
}
