// Which images a run covers and the paths they are reported under.

import Foundation
import ToolTesting
import XCTest

@testable import Predicting

final class ImageListTests: XCTestCase {
  func testOneFolderGivesPathsRelativeToItSortedAsExtractSortsThem() throws {
    let folder = try temporaryFolder(self, "predict-list")
    try writeImageFolder(folder)
    try Data().write(to: folder.appendingPathComponent(".hidden.jpg"))
    let list = try ImageList.collect([folder.path])
    XCTAssertEqual(list.root, folder.path)
    XCTAssertEqual(
      list.paths,
      ["a/astronaut.jpg", "a/camera.jpg", "a/notes.jpg", "b/chelsea.png", "b/truncated.jpg", "empty.png", "tiny.jpg"])
  }

  func testFoldersAndFilesTogetherKeepThePathsTheyWereReachedBy() throws {
    let folder = try temporaryFolder(self, "predict-list-mixed")
    try writeImageFolder(folder)
    let a = folder.appendingPathComponent("a").path
    let tiny = folder.appendingPathComponent("tiny.jpg").path
    // A file named twice (directly and through its folder) is predicted once.
    let list = try ImageList.collect([tiny, a + "/", folder.appendingPathComponent("a/camera.jpg").path])
    XCTAssertEqual(list.root, "")
    XCTAssertEqual(list.paths, [a + "/astronaut.jpg", a + "/camera.jpg", a + "/notes.jpg", tiny])
  }

  func testMissingInputsAndEmptyFoldersAreUsageErrors() throws {
    let folder = try temporaryFolder(self, "predict-list-empty")
    for inputs in [[], [folder.path], [folder.path + "/nope.jpg"], [folder.path, folder.path]] {
      XCTAssertThrowsError(try ImageList.collect(inputs), "\(inputs)") { error in
        XCTAssertEqual((error as? PredictError)?.exitCode, 2, "\(inputs)")
      }
    }
  }
}
