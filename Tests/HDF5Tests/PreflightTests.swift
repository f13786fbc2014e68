// libhdf5 1.10.8 crashes or loops inside its own object-header and B-tree code on some damaged
// files; every file opened for reading is first walked whole by a child process
// (HDF5File+Preflight.swift). The fixture is a heads file with one byte of the layout message
// of /heads/balance/label_range changed (found by mutation): reading that dataset makes
// H5Dread copy from wild memory. These tests require a one-line error and exit 2 instead, and
// check that the fixture still kills a process that reads it without the preflight.
import CHDF5
import CShims
import Foundation
import HDF5
import ToolTesting
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

final class PreflightTests: XCTestCase {
  private let crashing = fixturesDirectory.appendingPathComponent("hdf5/crash-dataset-layout.h5").path

  func testOpeningACrashingFileIsAnErrorNotACrash() throws {
    XCTAssertThrowsError(try HDF5File.open(path: crashing)) { error in
      let text = String(describing: error)
      XCTAssertEqual(
        text,
        "HDF5: cannot open file \(crashing): libhdf5 crashed (signal 11) while reading its structure (a damaged file?)")
    }
    // The process goes on reading HDF5: the damage stayed in the child.
    let intact = fixture("keras2_tiny.h5")
    XCTAssertNoThrow(try HDF5File.withFile(intact) { file in try file.attributeNames() })
  }

  /// The check that makes the test above able to fail: without the preflight, the read the
  /// command makes (the dataset, as float32) kills the process that makes it.
  func testWithoutThePreflightTheReadKillsTheProcess() throws {
    let path = strdup(crashing)!
    let name = strdup("heads/balance/label_range")!
    defer {
      free(path)
      free(name)
    }
    var values = [Float](repeating: 0, count: 1 << 16)
    let child = fork()
    XCTAssertGreaterThanOrEqual(child, 0)
    if child == 0 {
      // Only C runs here; the child dies of the crash or exits 0 when libhdf5 survived.
      signal(SIGSEGV, SIG_DFL)
      signal(SIGBUS, SIG_DFL)
      signal(SIGABRT, SIG_DFL)
      hs_silence_errors()
      let file = H5Fopen(path, hs_f_acc_rdonly(), hs_p_default())
      let dataset = H5Dopen2(file, name, hs_p_default())
      _ = H5Dread(dataset, hs_native_float(), hs_s_all(), hs_s_all(), hs_p_default(), &values)
      _exit(0)
    }
    var status: Int32 = 0
    while waitpid(child, &status, 0) < 0 && errno == EINTR {}
    let signalled = status & 0x7f != 0 && status & 0x7f != 0x7f
    XCTAssertTrue(
      signalled,
      "libhdf5 read the damaged dataset without crashing (status \(status)): the fixture no longer tests the preflight")
    if signalled { XCTAssertEqual(status & 0x7f, SIGSEGV) }
  }

  func testTheCommandExitsTwoWithOneLine() throws {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("preflight-\(UUID().uuidString).csv")
    defer { try? FileManager.default.removeItem(at: output) }
    let images = repositoryRoot.appendingPathComponent("Datasets/sample/images").path
    let result = try runTool(
      "predict", ["--heads", crashing, "--weights", "random", "--images", images, "--output", output.path, "--quiet"])
    XCTAssertEqual(result.status, 2, result.stderr)
    let lines = result.stderr.split(separator: "\n")
    XCTAssertEqual(lines.count, 1, result.stderr)
    let reason = "libhdf5 crashed (signal 11) while reading its structure (a damaged file?)"
    XCTAssertTrue(result.stderr.contains(reason), result.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: output.path))
  }
}
