// Where an array's bytes come from: a span of a file read with pread (a `.npy` file, or a
// stored `.npz` entry), or a deflated `.npz` entry inflated as a stream. Reads are of row
// ranges, a batch at a time, so memory stays one batch however large the file is.

import CShims
import Foundation
import Support

/// An open file, read at offsets; closed when the last user lets go.
final class OpenFile: @unchecked Sendable {
  let path: String
  let descriptor: Int32
  let size: Int

  init(path: String) throws(ArrayError) {
    self.path = path
    descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw ArrayError("cannot open \(path): \(String(cString: strerror(errno)))") }
    var status = stat()
    guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
      close(descriptor)
      throw ArrayError("\(path) is not a regular file")
    }
    size = Int(status.st_size)
  }

  deinit { close(descriptor) }

  /// Reads exactly `buffer.count` bytes at `offset`.
  func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(ArrayError) {
    var done = 0
    while done < buffer.count {
      let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else {
        throw ArrayError(
          "cannot read \(path) at byte \(offset + done): "
            + (n < 0 ? String(cString: strerror(errno)) : "the file ends early (was it changed during the run?)"))
      }
      done += n
    }
  }

  func read(at offset: Int, count: Int) throws(ArrayError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    let result = bytes.withUnsafeMutableBytes { buffer in
      Result { () throws(ArrayError) in try read(at: offset, into: buffer) }
    }
    try result.get()
    return bytes
  }
}

/// A stream of bytes (one `.npy` array) read at increasing offsets.
protocol ByteSource: AnyObject, Sendable {
  /// The stream's length in bytes.
  var size: Int { get }
  /// Fills `buffer` with the bytes at `offset`. Callers read mostly forwards; a source may be
  /// slower for a read behind the previous one.
  func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(ArrayError)
}

extension ByteSource {
  func read(at offset: Int, count: Int) throws(ArrayError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    let result = bytes.withUnsafeMutableBytes { buffer in
      Result { () throws(ArrayError) in try read(at: offset, into: buffer) }
    }
    try result.get()
    return bytes
  }

  /// Reads the whole stream once, a piece at a time, and compares its CRC-32 with `expected`:
  /// a damaged or truncated entry is found before any work starts, not hours into it.
  func verify(crc expected: UInt32, name: String) throws(ArrayError) {
    var crc: UInt32 = 0
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    var offset = 0
    while offset < size {
      let count = min(buffer.count, size - offset)
      let result = buffer.withUnsafeMutableBytes { raw in
        Result { () throws(ArrayError) in
          let piece = UnsafeMutableRawBufferPointer(rebasing: raw[0..<count])
          try read(at: offset, into: piece)
          crc = CRC32.update(crc, UnsafeRawBufferPointer(piece))
        }
      }
      try result.get()
      offset += count
    }
    guard crc == expected else { throw ArrayError("\(name): the data does not match its zip checksum (damaged)") }
  }
}

/// `count` bytes of a file from `start` on: a `.npy` file, or a stored `.npz` entry.
final class FileSpan: ByteSource, @unchecked Sendable {
  let file: OpenFile
  let start: Int
  let size: Int

  init(file: OpenFile, start: Int, size: Int) {
    self.file = file
    self.start = start
    self.size = size
  }

  func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(ArrayError) {
    guard offset >= 0, buffer.count <= size - offset else {
      throw ArrayError("\(file.path): a read past the end of the array (bytes \(offset)+\(buffer.count) of \(size))")
    }
    try file.read(at: start + offset, into: buffer)
  }
}

/// A deflated `.npz` entry: `compressedSize` bytes from `start` inflate to `size` bytes. Reads
/// continue the stream from where the last one ended (batches come in order); a read behind
/// that point starts over from the beginning of the entry. A lock makes the stream safe to share.
final class DeflatedSpan: ByteSource, @unchecked Sendable {
  let file: OpenFile
  let start: Int
  let compressedSize: Int
  let size: Int
  private let name: String
  private let lock = NSLock()
  private var inflater: OpaquePointer?
  /// Compressed bytes handed to the inflater, and uncompressed bytes it produced, so far.
  private var consumed = 0
  private var produced = 0
  private var input: [UInt8] = []
  private var inputUsed = 0
  private var ended = false

  init(file: OpenFile, start: Int, compressedSize: Int, size: Int, name: String) {
    self.file = file
    self.start = start
    self.compressedSize = compressedSize
    self.size = size
    self.name = name
  }

  deinit { hs_inflater_free(inflater) }

  func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(ArrayError) {
    lock.lock()
    defer { lock.unlock() }
    guard offset >= 0, buffer.count <= size - offset else {
      throw ArrayError("\(name): a read past the end of the array (bytes \(offset)+\(buffer.count) of \(size))")
    }
    if inflater == nil || offset < produced { try restart() }
    // Skip forward to `offset` through a scratch buffer, then inflate straight into `buffer`.
    var scratch = [UInt8](repeating: 0, count: min(1 << 16, max(0, offset - produced)))
    while produced < offset {
      let want = min(scratch.count, offset - produced)
      let result = scratch.withUnsafeMutableBytes { raw in
        Result { () throws(ArrayError) in try inflate(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<want])) }
      }
      try result.get()
    }
    var filled = 0
    while filled < buffer.count {
      filled += try inflate(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
    }
  }

  private func restart() throws(ArrayError) {
    hs_inflater_free(inflater)
    inflater = hs_inflater_new()
    guard inflater != nil else { throw ArrayError("\(name): out of memory for the inflater") }
    consumed = 0
    produced = 0
    input = []
    inputUsed = 0
    ended = false
  }

  /// Inflates some bytes (at least one) into `output`; returns how many.
  private func inflate(into output: UnsafeMutableRawBufferPointer) throws(ArrayError) -> Int {
    while true {
      if inputUsed == input.count && consumed < compressedSize {
        input = try file.read(at: start + consumed, count: min(1 << 16, compressedSize - consumed))
        inputUsed = 0
      }
      guard !ended else { throw ArrayError("\(name): the compressed data ends before the array does (damaged)") }
      var used = 0
      var made = 0
      let status = input.withUnsafeBytes { raw in
        hs_inflater_run(
          inflater, raw.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) + inputUsed }, input.count - inputUsed,
          &used, output.baseAddress?.assumingMemoryBound(to: UInt8.self), output.count, &made)
      }
      guard status >= 0 else { throw ArrayError("\(name): the compressed data is damaged") }
      if inputUsed == input.count && used == 0 && made == 0 && consumed >= compressedSize && status == 0 {
        throw ArrayError("\(name): the compressed data ends before the array does (damaged)")
      }
      inputUsed += used
      consumed += used
      produced += made
      if status == 1 { ended = true }
      if made > 0 { return made }
    }
  }
}
