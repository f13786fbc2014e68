// Variable-length strings are read in a child process (CShims/hdf5_isolated.c says why): a
// damaged global heap crashes or hangs libhdf5 1.10, and it is the reading child that dies,
// while the command reports the file as damaged and exits 2 like for any other damage.
import CHDF5
import CShims

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The time a child may take to read `count` strings: generous (a million paths read in about a
/// second), so only a runaway read reaches it.
func stringReadSeconds(count: Int) -> UInt32 { UInt32(clamping: 30 + count / 20_000) }

extension H5Readable {
  /// The strings read in a child process, or nil when that is not possible (the file is open for
  /// writing, or the system refused a pipe or a process) or not needed (the file's preflight
  /// already read them in its child) and the caller reads them itself.
  func readVariableStringsInChild(memType: hid_t, count: Int) throws -> [String]? {
    var result = hs_isolated_strings()
    let seconds = stringReadSeconds(count: count)
    hs_read_vlen_strings_isolated(id, isAttribute ? 1 : 0, memType, count, seconds, &result)
    defer { free(result.bytes) }
    func damaged(_ reason: String) -> HDF5Error {
      HDF5Error(operation: "read the strings of", object: object, reason: reason + " (a damaged file?)")
    }
    switch result.outcome {
    case HS_ISOLATED_OK:
      let bytes = UnsafeRawBufferPointer(start: result.bytes, count: result.length)
      return bytes.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
        String(decoding: $0, as: UTF8.self)
      }
    case HS_ISOLATED_REFUSED:
      let message = withUnsafeBytes(of: result.message) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      throw HDF5Error(operation: "read the strings of", object: object, reason: plainReason(message))
    case HS_ISOLATED_CRASHED:
      throw damaged(
        result.detail == 0
          ? "libhdf5 ended without an answer while reading them"
          : "libhdf5 crashed (signal \(result.detail)) while reading them")
    case HS_ISOLATED_TIMED_OUT:
      throw damaged("libhdf5 did not finish reading them within \(seconds) s")
    case HS_ISOLATED_MALFORMED:
      throw damaged("libhdf5 read more string data than the file holds")
    default:
      return nil
    }
  }
}
