// Files whose names are not UTF-8 (an old Latin-1 archive's `caf\xe9.jpg`), for the tests of
// every tool that lists folders. Foundation's path APIs take text, so these go through the C calls.

import Foundation

/// The bytes `caf\xe9.jpg`: "café.jpg" in Latin-1, not valid UTF-8.
public let latin1CafeName: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".jpg".utf8)

/// Writes `contents` to the file whose path is `folder`, `/`, then the raw bytes `name`.
public func writeFile(in folder: URL, rawName name: [UInt8], contents: Data) throws {
  let path = Array(folder.path.utf8) + [UInt8(ascii: "/")] + name
  let descriptor = open(path.map { CChar(bitPattern: $0) } + [0], O_WRONLY | O_CREAT | O_TRUNC, 0o644)
  guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
  defer { close(descriptor) }
  let written = contents.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
  guard written == contents.count else { throw CocoaError(.fileWriteUnknown) }
}
