// Writing `.npy` files as numpy's np.save does, so tests can make array inputs of any shape
// without Python.

import Foundation

/// A `.npy` stream laid out as numpy's format.write_array does (version 1.0 unless `major`
/// says): the header dict padded with spaces to a multiple of 64 bytes and ended by a newline.
public func npyBytes(header dict: String, data: [UInt8], major: UInt8 = 1) -> [UInt8] {
  var text = Array(dict.utf8)
  let start = major == 1 ? 10 : 12
  while (start + text.count + 1) % 64 != 0 { text.append(0x20) }
  text.append(0x0A)
  var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [major, 0]
  bytes +=
    major == 1
    ? [UInt8(text.count & 0xFF), UInt8(text.count >> 8)]
    : [UInt8(text.count & 0xFF), UInt8(text.count >> 8 & 0xFF), 0, 0]
  return bytes + text + data
}

/// Writes a uint8 array of `shape` (row-major `data`) as np.save would.
public func writeNpy(_ data: [UInt8], shape: [Int], to url: URL) throws {
  let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
  try Data(npyBytes(header: "{'descr': '|u1', 'fortran_order': False, 'shape': (\(dims)), }", data: data))
    .write(to: url)
}
