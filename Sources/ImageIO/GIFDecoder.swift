// GIF decoding through giflib (its low-level, one-record-at-a-time API, so only the first frame
// is ever decompressed), converted to RGB the way Pillow 13's `Image.open(...).convert('RGB')`
// does. What Pillow does with the first frame, found by experiment (the fixture script has a
// file for each):
// * the image is the logical screen, enlarged to hold the frame when the frame reaches past it;
// * outside the frame it is palette index 0, or the transparent index when the frame has one
//   (the background colour is not used);
// * the transparent index is otherwise an ordinary colour: convert('RGB') ignores transparency;
// * the local colour table replaces the global one; a table that is exactly the gray ramp
//   (entry i = (i, i, i)) is treated as no table, and without a table the image is gray with the
//   index as the level ("L"), so indices past a ramp's end stay their own level;
// * indices past the end of the table are black.
// Output is (H, W, 3) uint8.
import CGIF

/// GIF file bytes -> RGB pixels of the first frame (GIF has no EXIF orientation for Pillow).
func decodeGIF(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) throws(ImageError)
  -> (RGBImage, orientation: Int?)
{
  let source = GIFSource(bytes)
  return try withExtendedLifetime(source) { () throws(ImageError) in
    var status: Int32 = 0
    guard let gif = DGifOpen(Unmanaged.passUnretained(source).toOpaque(), readGIF, &status) else {
      throw ImageError("corrupt GIF: \(gifMessage(status))")
    }
    defer { DGifCloseFile(gif, nil) }
    let transparency = try firstFrameHeader(gif)
    let image = gif.pointee.Image
    let left = Int(image.Left)
    let top = Int(image.Top)
    let frameWidth = Int(image.Width)
    let frameHeight = Int(image.Height)
    let width = max(Int(gif.pointee.SWidth), left + frameWidth)
    let height = max(Int(gif.pointee.SHeight), top + frameHeight)
    try checkPixelLimit(width: width, height: height, maxPixels: maxPixels)
    guard frameWidth > 0, frameHeight > 0 else {
      throw ImageError("corrupt GIF: the first frame is \(frameWidth)x\(frameHeight) pixels")
    }
    // (H, W) palette indices: the first frame over index 0 or its transparent index.
    var indices = [UInt8](repeating: transparency ?? 0, count: width * height)
    let rows = image.Interlace ? interlacedRows(frameHeight) : Array(0..<frameHeight)
    let failure = indices.withUnsafeMutableBufferPointer { canvas -> Int32? in
      for row in rows {
        let line = canvas.baseAddress! + (top + row) * width + left
        if DGifGetLine(gif, line, Int32(frameWidth)) == GIF_ERROR { return gif.pointee.Error }
      }
      return nil
    }
    if let failure { throw ImageError("corrupt or truncated GIF: \(gifMessage(failure))") }
    let table = colourTable(image.ColorMap) ?? colourTable(gif.pointee.SColorMap)
    let rgb = indicesToRGB(indices, table: table)
    return (RGBImage(width: width, height: height, pixels: rgb), nil)
  }
}

/// The whole file, read by giflib through `readGIF`.
private final class GIFSource {
  let bytes: UnsafeRawBufferPointer
  var offset = 0
  var endMarkers = 0

  init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
}

/// giflib's input function. A one-byte read exactly at the end of the file gets a zero byte:
/// Pillow decodes a file that ends right after its last data sub-block (no block terminator,
/// no trailer), while giflib, which reads on to the terminator, would fail. A zero byte ends
/// any list of sub-blocks and is no record type, so giflib still stops, with an error, wherever
/// more data is needed.
private let readGIF: InputFunc = { gif, buffer, count in
  guard let gif, let buffer, count >= 0 else { return 0 }
  let source = Unmanaged<GIFSource>.fromOpaque(gif.pointee.UserData).takeUnretainedValue()
  let available = source.bytes.count - source.offset
  if available == 0 && count == 1 && source.endMarkers < 8 {
    source.endMarkers += 1
    buffer.pointee = 0
    return 1
  }
  let n = min(Int(count), available)
  if n > 0 {
    UnsafeMutableRawPointer(buffer).copyMemory(from: source.bytes.baseAddress! + source.offset, byteCount: n)
  }
  source.offset += n
  return Int32(n)
}

/// Reads records up to the first image descriptor (giflib then holds it in `Image`), keeping
/// the transparent index of the graphic control extensions before it: the last one that sets
/// the flag wins, as in Pillow (a later extension without the flag does not clear it).
private func firstFrameHeader(_ gif: UnsafeMutablePointer<GifFileType>) throws(ImageError) -> UInt8? {
  var transparency: UInt8? = nil
  while true {
    var record = UNDEFINED_RECORD_TYPE
    guard DGifGetRecordType(gif, &record) == GIF_OK else {
      throw ImageError("corrupt or truncated GIF: \(gifMessage(gif.pointee.Error))")
    }
    switch record {
    case IMAGE_DESC_RECORD_TYPE:
      guard DGifGetImageDesc(gif) == GIF_OK else {
        throw ImageError("corrupt or truncated GIF: \(gifMessage(gif.pointee.Error))")
      }
      return transparency
    case EXTENSION_RECORD_TYPE:
      var code: Int32 = 0
      var block: UnsafeMutablePointer<GifByteType>? = nil
      guard DGifGetExtension(gif, &code, &block) == GIF_OK else {
        throw ImageError("corrupt or truncated GIF: \(gifMessage(gif.pointee.Error))")
      }
      // giflib's blocks start with their length. Graphic control: flags, delay (2), index.
      if code == GRAPHICS_EXT_FUNC_CODE, let block, block[0] >= 4, block[1] & 1 != 0 {
        transparency = block[4]
      }
      while block != nil {
        guard DGifGetExtensionNext(gif, &block) == GIF_OK else {
          throw ImageError("corrupt or truncated GIF: \(gifMessage(gif.pointee.Error))")
        }
      }
    default:  // the trailer
      throw ImageError("corrupt GIF: no image in the file")
    }
  }
}

/// Row order of an interlaced frame: every 8th row from 0, every 8th from 4, every 4th from 2,
/// every 2nd from 1 (GIF89a appendix E).
private func interlacedRows(_ height: Int) -> [Int] {
  var rows: [Int] = []
  for (start, step) in [(0, 8), (4, 8), (2, 4), (1, 2)] {
    rows.append(contentsOf: stride(from: start, to: height, by: step))
  }
  return rows
}

/// A colour table as 256 (R, G, B) entries, black past its end; nil for no table or for the
/// exact gray ramp, which Pillow treats as no table.
private func colourTable(_ map: UnsafeMutablePointer<ColorMapObject>?) -> [UInt8]? {
  guard let map, let colours = map.pointee.Colors else { return nil }
  let count = min(Int(map.pointee.ColorCount), 256)
  var table = [UInt8](repeating: 0, count: 256 * 3)
  var ramp = true
  for i in 0..<count {
    let c = colours[i]
    table[3 * i] = c.Red
    table[3 * i + 1] = c.Green
    table[3 * i + 2] = c.Blue
    ramp = ramp && Int(c.Red) == i && Int(c.Green) == i && Int(c.Blue) == i
  }
  return ramp ? nil : table
}

/// (H, W) indices -> (H, W, 3): looked up in `table`, or gray levels without one.
private func indicesToRGB(_ indices: [UInt8], table: [UInt8]?) -> [UInt8] {
  var out = [UInt8](repeating: 0, count: indices.count * 3)
  indices.withUnsafeBufferPointer { src in
    out.withUnsafeMutableBufferPointer { dst in
      if let table {
        for i in 0..<src.count {
          let e = 3 * Int(src[i])
          dst[3 * i] = table[e]
          dst[3 * i + 1] = table[e + 1]
          dst[3 * i + 2] = table[e + 2]
        }
      } else {
        for i in 0..<src.count {
          dst[3 * i] = src[i]
          dst[3 * i + 1] = src[i]
          dst[3 * i + 2] = src[i]
        }
      }
    }
  }
  return out
}

private func gifMessage(_ code: Int32) -> String {
  guard let text = GifErrorString(code) else { return "giflib error \(code)" }
  return String(cString: text).lowercased()
}

/// "GIF87a" or "GIF89a".
func isGIF(_ bytes: UnsafeRawBufferPointer) -> Bool {
  guard bytes.count >= 6 else { return false }
  return bytes.prefix(4).elementsEqual([0x47, 0x49, 0x46, 0x38])  // "GIF8"
    && (bytes[4] == 0x37 || bytes[4] == 0x39) && bytes[5] == 0x61
}
