// libFuzzer target: one input is one `.npy` or `.npz` file, read as `extract --array` and
// `predict --array` read it (ArrayFile: the container by its first bytes, the zip directory, each
// member's header and CRC-32, then rows). ArrayFile opens files by path, so each input is written
// to one temporary file first. HDF5 inputs are skipped: libhdf5 1.10.8's own faults are the known
// limit of FuzzKerasWeights (Fuzz/README.md), and this target is for Headstart's readers.
import ArrayIO
import Foundation
import FuzzDriver

let path = NSTemporaryDirectory() + "headstart-fuzz-arrays-\(getpid()).bin"
let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

/// Reads the first rows and the last row of `array`, as the element type allows (uint8 images as
/// bytes, any numeric labels as numbers), and checks what comes back has the promised size.
func readRows(of array: NumericArray) {
  let count = array.rowCount
  guard count > 0 else { return }
  for rows in [0..<min(count, 3), (count - 1)..<count] {
    if array.element == .unsigned(bytes: 1), let bytes = try? array.bytes(rows: rows) {
      precondition(bytes.count == rows.count * array.rowElements)
    }
    if let numbers = try? array.numbers(rows: rows) {
      precondition(numbers.count == rows.count * array.rowElements)
    }
  }
}

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = inputBytes(data, size)
  if bytes.starts(with: hdf5Signature) { return 0 }
  guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fatalError("cannot write \(path)") }
  guard let file = try? ArrayFile(path: path) else { return 0 }
  // A .npy's one array has no name; a .npz's members are read by name, plus one it lacks.
  let names: [String?] = file.container == .npy ? [nil] : file.arrayNames().map { Optional($0) } + ["missing"]
  for name in names {
    guard let array = try? file.array(name) else { continue }
    precondition(array.rowElements >= 0 && array.shape.allSatisfy { $0 >= 0 })
    readRows(of: array)
  }
  return 0
}

runLibFuzzer(testOneInput)
