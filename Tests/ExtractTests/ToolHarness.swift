// Running the built `extract` tool as a user would, for end-to-end tests.

import Foundation
import ToolTesting
import XCTest

/// Runs `extract` with `arguments` and waits for it.
@discardableResult
func runExtract(_ arguments: [String], environment: [String: String]? = nil) throws -> ToolResult {
  try runTool("extract", arguments, environment: environment ?? [:])
}

/// Starts `extract` (to kill it mid-run).
func startExtract(_ arguments: [String], environment: [String: String]? = nil) throws -> RunningTool {
  try startTool("extract", arguments, environment: environment ?? [:])
}

/// A fresh temporary folder, removed at the end of the test.
func temporaryFolder(_ test: XCTestCase, _ name: String) throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("headstart-\(name)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
  return url
}

/// Copies files into `folder`, keeping their names.
func copy(_ files: [URL], into folder: URL) throws {
  try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  for file in files {
    try FileManager.default.copyItem(at: file, to: folder.appendingPathComponent(file.lastPathComponent))
  }
}

/// Names of the files in a folder, sorted.
func listing(_ folder: URL) -> [String] {
  ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
}
