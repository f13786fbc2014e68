// libFuzzer target: one input is one weight file, loaded as extract and predict load `--weights`
// (Extraction.loadWeights: read the Keras layout, rename old layers, bind to the backbone). HDF5
// opens files by path, so each input is written to one temporary file first.
import Backbones
import CHDF5
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
  // Every file, dataset, group, type and attribute Headstart opened is closed again, on the
  // refusal paths too (0x1F: H5F_OBJ_ALL, as the id "every file" and as the kinds to count).
  let open = H5Fget_obj_count(hid_t(0x1F), 0x1F)
  if open != 0 { fatalError("\(open) HDF5 object(s) left open after loading a weight file") }
  return 0
}

runLibFuzzer(testOneInput)
