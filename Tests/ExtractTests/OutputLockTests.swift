// One writer per output: a second run on an output that another run is writing is refused at once
// (exit 2, one line naming the output and the holder's pid and host), for every command that
// writes, and the first run's result is unchanged. A lock left by a `kill -9` does not block the
// rerun (ResumeTests kill a run and rerun it on the same output).

import FeatureStore
import Foundation
import Support
import ToolTesting
import XCTest

final class OutputLockTests: XCTestCase {
  func testASecondExtractOnTheSameOutputIsRefusedAndTheFirstFinishesUnchanged() throws {
    let folder = try temporaryFolder(self, "lock")
    let images = repositoryRoot.appendingPathComponent("Datasets/sample/images").path
    func arguments(_ output: String) -> [String] {
      [
        "--images", images, "--output", output, "--weights", "random", "--size", "64x64", "--batch-size", "8",
        "--quiet",
      ]
    }
    let reference = folder.appendingPathComponent("reference.h5").path
    XCTAssertEqual(try runExtract(arguments(reference)).status, 0)

    let output = folder.appendingPathComponent("features.h5").path
    let first = try startExtract(arguments(output))
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline, !FileManager.default.fileExists(atPath: output + ".partial") { usleep(2_000) }
    let second = try runExtract(arguments(output))
    let finished = first.finish()
    XCTAssertEqual(second.status, 2, second.stderr)
    XCTAssertEqual(second.stderr.split(separator: "\n").count, 1, second.stderr)
    XCTAssertTrue(
      second.stderr.contains(
        "\(output) is being written by another run (pid \(first.process.processIdentifier) on host"),
      second.stderr)
    XCTAssertEqual(finished.status, 0, finished.stderr)
    XCTAssertEqual(
      try Data(contentsOf: URL(fileURLWithPath: output)), try Data(contentsOf: URL(fileURLWithPath: reference)))
    XCTAssertFalse(FileManager.default.fileExists(atPath: output + ".lock"), "the lock file goes with the run")
  }

  func testEveryWritingCommandRefusesAnOutputLockedByAnotherRun() throws {
    let folder = try temporaryFolder(self, "lock-all")
    let output = folder.appendingPathComponent("out.h5").path
    let lock = try XCTUnwrap(try OutputLock.acquire(for: output))
    defer { lock.release() }
    let other = folder.appendingPathComponent("other.h5").path
    let commands: [(String, [String])] = [
      ("extract", ["--images", folder.path, "--output", output]),
      ("merge", ["--output", output, other]),
      ("fit-heads", ["--features", other, "--head", "a=softmax:a", "--output", output]),
      ("finetune", ["--images", folder.path, "--heads", other, "--output", output]),
      ("predict", ["--heads", other, "--images", folder.path, "--output", output]),
    ]
    for (command, arguments) in commands {
      let result = try runTool(command, arguments)
      XCTAssertEqual(result.status, 2, "\(command): \(result.stderr)")
      XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
      XCTAssertTrue(
        result.stderr.contains("is being written by another run (pid \(getpid()) on host"),
        "\(command): \(result.stderr)")
    }
    XCTAssertEqual(listing(folder), ["out.h5.lock"], "nothing else written")
  }
}
