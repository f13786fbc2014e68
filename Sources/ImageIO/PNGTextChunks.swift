// Pillow's limits on a PNG's text and ICC chunks, where a "decompression bomb" can hide outside
// the pixels: zTXt, iTXt and iCCP chunks hold zlib streams, and a few kilobytes of one can
// inflate to gigabytes. Pillow (PngImagePlugin, so Keras' load_img) refuses a file with a chunk
// that inflates to more than MAX_TEXT_CHUNK (1 MiB), or whose text chunks hold more than
// MAX_TEXT_MEMORY (64 MiB) together; a stream that is not valid zlib it ignores, as it ignores an
// iTXt it cannot parse. Each stream is measured here with a bounded inflate into a scratch buffer
// (CShims' hs_zlib_inflated_size), so a bomb costs at most 1 MiB of inflating and no memory;
// libpng then skips these chunks altogether (CShims/jpeg_shims.c).
import CShims

/// Pillow's MAX_TEXT_CHUNK: the most one compressed text or ICC chunk may inflate to.
let pngTextChunkLimit = 1 << 20
/// Pillow's MAX_TEXT_MEMORY: the most the text chunks may hold together.
let pngTextMemoryLimit = 64 << 20

/// The text chunks of one file, checked one at a time as the chunk walk meets them.
struct PNGTextChunks {
  /// Bytes of text so far (tEXt as stored, zTXt and compressed iTXt as inflated), as Pillow counts.
  private(set) var textBytes = 0

  /// Checks the chunk of `type` at byte `offset` with payload `body`; other chunk types pass.
  mutating func check(type: Int, body: UnsafeRawBufferPointer, at offset: Int) throws(ImageError) {
    // Every one of these chunks starts with a keyword (or profile name) ended by a NUL.
    let afterName = body.firstIndex(of: 0).map { $0 + 1 } ?? body.count
    let rest = UnsafeRawBufferPointer(rebasing: body[afterName...])
    switch type {
    case 0x7445_5874:  // "tEXt": keyword, NUL, text
      textBytes += rest.count
    case 0x7A54_5874:  // "zTXt": keyword, NUL, compression method (0 = zlib), stream
      guard (rest.first ?? 0) == 0 else { return }
      textBytes += max(0, try inflatedSize(UnsafeRawBufferPointer(rebasing: rest.dropFirst()), type, offset))
    case 0x6954_5874:  // "iTXt": keyword, NUL, compressed?, method, language, NUL, keyword, NUL, text
      guard rest.count >= 2 else { return }
      let fields = rest.dropFirst(2).split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
      guard fields.count == 3, let text = fields.last else { return }
      if rest[0] == 0 {
        textBytes += text.count
      } else if rest[1] == 0 {
        let size = try inflatedSize(UnsafeRawBufferPointer(rebasing: text), type, offset)
        guard size >= 0 else { return }
        textBytes += size
      }
    case 0x6943_4350:  // "iCCP": profile name, NUL, compression method (0 = zlib), stream
      if rest.first == 0 { _ = try inflatedSize(UnsafeRawBufferPointer(rebasing: rest.dropFirst()), type, offset) }
    default:
      return
    }
    if textBytes > pngTextMemoryLimit {
      throw ImageError(
        "PNG text chunks hold more than \(pngTextMemoryLimit) bytes together, Pillow's limit (a possible "
          + "decompression bomb)")
    }
  }

  /// The size `stream` inflates to, -1 when it is not a zlib stream; refused past the chunk limit.
  private func inflatedSize(_ stream: UnsafeRawBufferPointer, _ type: Int, _ offset: Int) throws(ImageError) -> Int {
    let base = stream.baseAddress?.assumingMemoryBound(to: UInt8.self)
    let size = Int(hs_zlib_inflated_size(base, stream.count, pngTextChunkLimit))
    if size > pngTextChunkLimit {
      throw ImageError(
        "PNG \(chunkName(type)) chunk at byte \(offset) decompresses to more than \(pngTextChunkLimit) bytes, "
          + "Pillow's limit for text and ICC chunks (a possible decompression bomb)")
    }
    return size
  }
}
