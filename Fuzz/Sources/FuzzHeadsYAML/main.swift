// libFuzzer target: one input is one `--heads` YAML file (see HeadsFileCheck).
import FuzzDriver
import HeadsFileCheck

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  checkHeadsFile(inputBytes(data, size), yaml: true)
  return 0
}

runLibFuzzer(testOneInput)
