// libFuzzer target: one input is one weight file, loaded as extract and predict load `--weights`
// (Extraction.loadWeights: read the Keras layout, rename old layers, bind to the backbone). HDF5
// opens files by path, so each input is written to one temporary file first.
import Backbones
import Extraction
import Foundation
import FuzzDriver

let path = NSTemporaryDirectory() + "headstart-fuzz-weights-\(getpid()).h5"

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = inputBytes(data, size)
  guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fatalError("cannot write \(path)") }
  // The backbone varies with the input's length; the digest is given, so the file is not hashed.
  let kind = BackboneKind.allCases[bytes.count % BackboneKind.allCases.count]
  _ = try? loadWeights(.file(path), kind: kind, sha256: "")
  return 0
}

runLibFuzzer(testOneInput)
