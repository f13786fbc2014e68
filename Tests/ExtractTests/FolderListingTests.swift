// The one listing rule extract, finetune and predict share (FolderListing.swift): what is read,
// what is skipped and counted, and names that are not UTF-8.

import FeatureStore
import Foundation
import ToolTesting
import XCTest

@testable import Extraction

final class FolderListingTests: XCTestCase {
  private var root: URL!

  override func setUpWithError() throws {
    root = try temporaryFolder(self, "listing")
  }

  private func touch(_ relative: String) throws {
    let url = root.appendingPathComponent(relative)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data([1]).write(to: url)
  }

  func testLinksHiddenFilesPipesAndRawNames() throws {
    for path in ["cats/a.jpg", "cats/.DS_Store", ".git/objects/ab", "dogs/._b.jpg", "real/c.jpg", #"x\y.jpg"#] {
      try touch(path)
    }
    try writeFile(in: root.appendingPathComponent("cats"), rawName: latin1CafeName, contents: Data([1]))
    let manager = FileManager.default
    try manager.createSymbolicLink(
      atPath: root.appendingPathComponent("cats/link.jpg").path, withDestinationPath: "a.jpg")
    try manager.createSymbolicLink(
      atPath: root.appendingPathComponent("cats/gone.jpg").path, withDestinationPath: "nowhere.jpg")
    try manager.createSymbolicLink(
      atPath: root.appendingPathComponent("dogs/more").path, withDestinationPath: "../real")
    XCTAssertEqual(mkfifo(root.appendingPathComponent("cats/pipe").path, 0o644), 0)

    let listing = try FolderListing.list(root: root.path, includeHidden: false)
    XCTAssertEqual(
      listing.paths,
      ["cats/a.jpg", #"cats/caf\xE9.jpg"#, "cats/gone.jpg", "cats/link.jpg", "real/c.jpg", #"x\\y.jpg"#])
    XCTAssertEqual(listing.skipped.hidden, 3)
    XCTAssertEqual(listing.skipped.linkedFolders, ["dogs/more"])
    XCTAssertEqual(
      listing.skipped.clauses,
      ["3 hidden files skipped (--include-hidden reads them)", "1 link to a folder not followed (dogs/more)"])

    let all = try FolderListing.list(root: root.path, includeHidden: true)
    XCTAssertEqual(
      all.paths,
      [
        ".git/objects/ab", "cats/.DS_Store", "cats/a.jpg", #"cats/caf\xE9.jpg"#, "cats/gone.jpg", "cats/link.jpg",
        "dogs/._b.jpg", "real/c.jpg", #"x\\y.jpg"#,
      ])
    XCTAssertEqual(all.skipped.hidden, 0)

    // The dataset built on it: the same rows, and what was skipped kept for the summary.
    let dataset = try Dataset.load(root: root.path, labels: .folders)
    XCTAssertEqual(dataset.paths, listing.paths)
    XCTAssertEqual(dataset.skipped, listing.skipped)
  }

  func testAFolderOfHiddenFilesOnlySaysSo() throws {
    try touch(".a.jpg")
    try touch(".b/c.jpg")
    XCTAssertThrowsError(try Dataset.load(root: root.path, labels: .folders)) { error in
      XCTAssertEqual((error as? ExtractError)?.exitCode, 2)
      XCTAssertTrue("\(error)".contains("2 hidden files skipped (--include-hidden reads them)"), "\(error)")
    }
    XCTAssertEqual(
      try Dataset.load(root: root.path, labels: .folders, includeHidden: true).paths, [".a.jpg", ".b/c.jpg"])
  }

  func testUnreadableFolderIsNamed() throws {
    try XCTSkipIf(geteuid() == 0, "root reads every folder")
    try touch("a.jpg")
    try touch("locked/b.jpg")
    let locked = root.appendingPathComponent("locked").path
    XCTAssertEqual(chmod(locked, 0), 0)
    defer { chmod(locked, 0o755) }
    let listing = try FolderListing.list(root: root.path, includeHidden: false)
    XCTAssertEqual(listing.paths, ["a.jpg"])
    XCTAssertEqual(listing.skipped.unreadableFolders, ["locked: Permission denied"])
  }

  func testManifestPathsAreStoredFormsInEitherHexCase() throws {
    try writeFile(in: root, rawName: latin1CafeName, contents: Data([1]))
    try touch(#"a\b.jpg"#)
    let csv = root.appendingPathComponent("labels.csv")
    try "path,score\ncaf\\xe9.jpg,1\na\\b.jpg,2\nnone\\xE9.jpg,3\n".write(to: csv, atomically: true, encoding: .utf8)
    let dataset = try Dataset.load(root: root.path, labels: .csv(csv.path))
    XCTAssertEqual(dataset.paths, [#"a\\b.jpg"#, #"caf\xE9.jpg"#])
    XCTAssertEqual(dataset.missing, [#"none\xE9.jpg"#])
  }
}
