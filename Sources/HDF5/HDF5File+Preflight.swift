// Before a file is opened for reading, a child process walks its whole structure
// (CShims/hdf5_preflight.c): libhdf5 1.10.8 crashes or loops in its object-header and B-tree
// code on some damaged files, and then it is the child that dies, while the command reports
// the file as damaged and exits 2 like for any other damage.
import CShims

/// The time the preflight may take: reading the structure of a real file takes milliseconds,
/// so only a runaway read reaches it.
let preflightSeconds: UInt32 = 30

extension HDF5File {
  /// Throws when libhdf5 cannot read the structure of the file at `path` without crashing or
  /// hanging. Errors libhdf5 reports cleanly are left to the reads that meet them; when no
  /// child process can be started, the file is read in this process, as before. Returns
  /// whether the preflight ran to its end (then the file, opened right away, is marked with
  /// `hs_preflight_passed`).
  static func preflight(_ path: String) throws -> Bool {
    var outcome = HS_ISOLATED_OK
    var detail: Int32 = 0
    hs_preflight_file(path, preflightSeconds, &outcome, &detail)
    func damaged(_ reason: String) -> HDF5Error {
      HDF5Error(operation: "open file", object: path, reason: reason + " while reading its structure (a damaged file?)")
    }
    switch outcome {
    case HS_ISOLATED_CRASHED:
      throw damaged(detail == 0 ? "libhdf5 ended abnormally" : "libhdf5 crashed (signal \(detail))")
    case HS_ISOLATED_TIMED_OUT:
      throw damaged("libhdf5 did not finish within \(preflightSeconds) s")
    case HS_ISOLATED_OK:
      return true
    default:
      return false
    }
  }
}
