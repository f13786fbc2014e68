// JPEG decoding through libjpeg-turbo (via the CShims setjmp wrappers), converted to RGB the
// way Pillow's `Image.open(...).convert('RGB')` does. Output is (H, W, 3) uint8.
import CShims

/// JPEG file bytes -> (header-checked) RGB pixels and the EXIF orientation of the first
/// APP1 "Exif" segment (Pillow reads the first one too).
func decodeJPEG(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) throws(ImageError)
  -> (RGBImage, orientation: Int?)
{
  let data = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
  var header = hs_jpeg_header()
  var message = [CChar](repeating: 0, count: Int(HS_IMAGE_MESSAGE_CAPACITY))
  if hs_jpeg_read_header(data, bytes.count, &header, &message, message.count) != 0 {
    throw ImageError(cString(message))
  }
  try checkPixelLimit(width: header.width, height: header.height, maxPixels: maxPixels)
  let w = Int(header.width)
  let h = Int(header.height)
  let c = Int(header.components)
  var raw = [UInt8](repeating: 0, count: w * h * c)  // (H, W, c), c = 1, 3 or 4
  let status = raw.withUnsafeMutableBufferPointer { out in
    hs_jpeg_decode(
      data, bytes.count, out.baseAddress, out.count, &header, &message,
      message.count)
  }
  if status != 0 { throw ImageError(cString(message)) }
  let rgb: [UInt8]
  switch c {
  case 3: rgb = raw
  case 1: rgb = grayToRGB(raw)
  default: rgb = invertedCMYKToRGB(raw)
  }
  return (RGBImage(width: w, height: h, pixels: rgb), jpegExifOrientation(bytes))
}

/// Pillow decodes every 4-component JPEG as "CMYK;I" (Adobe's inverted convention, which is
/// what Photoshop writes; YCCK is turned into that same CMYK by libjpeg), then converts with
/// r = 255 - k' - c'(255 - k')/255 in exact integer form, where c' = 255 - stored c etc.:
/// nk = 255 - k', out = clip(nk - round255(c' * nk)), round255(t) = ((t+128)>>8 + t+128)>>8.
/// Checked exhaustively against Pillow's convert in the fixture script's development.
func invertedCMYKToRGB(_ cmyk: [UInt8]) -> [UInt8] {
  let n = cmyk.count / 4
  var out = [UInt8](repeating: 0, count: n * 3)
  cmyk.withUnsafeBufferPointer { src in
    out.withUnsafeMutableBufferPointer { dst in
      for i in 0..<n {
        let nk = Int(src[4 * i + 3])  // 255 - (255 - stored k)
        for ch in 0..<3 {
          let cInk = 255 - Int(src[4 * i + ch])
          let t = cInk * nk + 128
          let v = nk - (((t >> 8) + t) >> 8)
          dst[3 * i + ch] = UInt8(clamping: v)
        }
      }
    }
  }
  return out
}

/// Pillow's L -> RGB: the gray value in all three channels.
func grayToRGB(_ gray: [UInt8]) -> [UInt8] {
  var out = [UInt8](repeating: 0, count: gray.count * 3)
  gray.withUnsafeBufferPointer { src in
    out.withUnsafeMutableBufferPointer { dst in
      for i in 0..<src.count {
        let v = src[i]
        dst[3 * i] = v
        dst[3 * i + 1] = v
        dst[3 * i + 2] = v
      }
    }
  }
  return out
}

/// Walks the JPEG markers before the first scan for APP1 "Exif\0\0".
func jpegExifOrientation(_ bytes: UnsafeRawBufferPointer) -> Int? {
  var at = 2  // after SOI
  while at + 4 <= bytes.count {
    guard bytes[at] == 0xFF else { return nil }
    let marker = bytes[at + 1]
    if marker == 0xFF {
      at += 1
      continue
    }  // fill byte
    if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) {
      at += 2
      continue
    }
    if marker == 0xDA || marker == 0xD9 { return nil }  // start of scan / end of image
    let length = Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
    guard length >= 2, at + 2 + length <= bytes.count else { return nil }
    let segment = UnsafeRawBufferPointer(rebasing: bytes[(at + 4)..<(at + 2 + length)])
    let exifPrefix: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]
    if marker == 0xE1 && segment.count >= 6 && segment.prefix(6).elementsEqual(exifPrefix) {
      return exifOrientation(segment)
    }
    at += 2 + length
  }
  return nil
}

func cString(_ buffer: [CChar]) -> String {
  buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
