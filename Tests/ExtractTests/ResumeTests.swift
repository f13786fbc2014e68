// "Never lose a night of work": a real `extract` process killed with SIGKILL mid-run, then run
// again, must give a file identical to an uninterrupted run.

import FeatureStore
import Foundation
import ToolTesting
import XCTest

final class ResumeTests: XCTestCase {
  private func sampleImages(_ count: Int) throws -> [URL] {
    let folder = repositoryRoot.appendingPathComponent("Datasets/sample/images")
    let names = listing(folder).filter { $0.hasSuffix(".jpg") }
    XCTAssertGreaterThanOrEqual(names.count, count, "the sample dataset is missing")
    return names.prefix(count).map { folder.appendingPathComponent($0) }
  }

  func testKilledRunResumesToAnIdenticalFile() throws { try killAndResume() }

  /// A shard (`--shard K/N`) resumes on its own exactly as a whole run does.
  func testKilledShardResumesToAnIdenticalFile() throws { try killAndResume(["--shard", "1/2"]) }

  private func killAndResume(_ extra: [String] = []) throws {
    let folder = try temporaryFolder(self, "resume")
    let images = folder.appendingPathComponent("images")
    try copy(try sampleImages(96), into: images)
    func arguments(_ output: URL) -> [String] {
      [
        "--images", images.path, "--output", output.path, "--weights", "random", "--seed", "3",
        "--size", "96x96", "--batch-size", "4", "--quiet",
      ] + extra
    }
    let reference = folder.appendingPathComponent("reference.h5")
    let whole = try runExtract(arguments(reference))
    XCTAssertEqual(whole.status, 0, whole.stderr)

    let resumed = folder.appendingPathComponent("resumed.h5")
    let journal = resumed.path + ".partial"
    let running = try startExtract(arguments(resumed))
    // Kill once a few batches are durable, well before the end.
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline {
      let size = (try? FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int) ?? 0
      if size > 3 * 4 * 2048 * 4 { break }
      usleep(2000)
    }
    kill(running.process.processIdentifier, SIGKILL)
    running.process.waitUntilExit()
    XCTAssertEqual(running.process.terminationReason, .uncaughtSignal, "the run ended before it could be killed")
    XCTAssertFalse(FileManager.default.fileExists(atPath: resumed.path), "a killed run must not leave an output")
    XCTAssertTrue(FileManager.default.fileExists(atPath: journal))

    let second = try runExtract(arguments(resumed))
    XCTAssertEqual(second.status, 0, second.stderr)
    XCTAssertTrue(second.stderr.contains("resuming"), second.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: journal), "the journal is removed once the file is done")

    let a = try FeatureFile.read(path: reference.path)
    let b = try FeatureFile.read(path: resumed.path)
    XCTAssertEqual(a.paths, b.paths)
    XCTAssertEqual(a.features, b.features)
    XCTAssertEqual(
      try Data(contentsOf: reference), try Data(contentsOf: resumed),
      "resumed file differs byte-wise from the reference")
  }

  func testFinishedOutputIsNotOverwrittenAndOtherSettingsAreRefused() throws {
    let folder = try temporaryFolder(self, "overwrite")
    let images = folder.appendingPathComponent("images")
    try copy(try sampleImages(4), into: images)
    let output = folder.appendingPathComponent("f.h5")
    let base = ["--images", images.path, "--output", output.path, "--weights", "random", "--size", "64x64", "--quiet"]
    XCTAssertEqual(try runExtract(base).status, 0)
    let before = try Data(contentsOf: output)
    let again = try runExtract(base)
    XCTAssertEqual(again.status, 2)
    XCTAssertTrue(again.stderr.contains("--overwrite"), again.stderr)
    XCTAssertEqual(try Data(contentsOf: output), before)
    XCTAssertEqual(try runExtract(base + ["--overwrite"]).status, 0)

    // --strict stops at the empty file (sorted last) and keeps the batches before it; a rerun with
    // another size is refused, naming the setting; the same settings without --strict finish.
    let other = folder.appendingPathComponent("g.h5")
    FileManager.default.createFile(atPath: images.appendingPathComponent("zz_empty.jpg").path, contents: Data())
    let strictRun = ["--images", images.path, "--output", other.path, "--weights", "random", "--batch-size", "1"]
    let stopped = try runExtract(strictRun + ["--size", "64x64", "--strict", "--quiet"])
    XCTAssertEqual(stopped.status, 1, stopped.stderr)
    XCTAssertTrue(stopped.stderr.contains("zz_empty.jpg"), stopped.stderr)
    XCTAssertTrue(FileManager.default.fileExists(atPath: other.path + ".partial"))
    XCTAssertFalse(FileManager.default.fileExists(atPath: other.path))
    let refused = try runExtract(strictRun + ["--size", "96x64", "--quiet"])
    XCTAssertEqual(refused.status, 2, refused.stderr)
    XCTAssertTrue(refused.stderr.contains("--size was 64x64"), refused.stderr)
    let finished = try runExtract(strictRun + ["--size", "64x64", "--quiet"])
    XCTAssertEqual(finished.status, 0, finished.stderr)
    XCTAssertTrue(finished.stderr.contains("resuming: 4 of 5"), finished.stderr)
    XCTAssertEqual(try FeatureFile.read(path: other.path).failedPaths, ["zz_empty.jpg"])
  }
}
