// Running the built `extract` tool as a user would, for end-to-end tests.

import Foundation
import XCTest

/// The folder holding the built products (the tool and the test bundle).
var productsDirectory: URL {
  for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
    return bundle.bundleURL.deletingLastPathComponent()
  }
  return Bundle.main.bundleURL
}

/// Tests/Fixtures in the source tree.
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("Fixtures")

/// The repository root.
let repositoryRoot = fixturesDirectory.deletingLastPathComponent().deletingLastPathComponent()

struct ToolResult {
  var status: Int32
  var stdout: String
  var stderr: String
}

/// Runs `extract` with `arguments` and waits for it.
@discardableResult
func runExtract(_ arguments: [String], environment: [String: String]? = nil) throws -> ToolResult {
  let process = try startExtract(arguments, environment: environment)
  let out = process.standardOutputPipe.fileHandleForReading.readDataToEndOfFile()
  let err = process.standardErrorPipe.fileHandleForReading.readDataToEndOfFile()
  process.process.waitUntilExit()
  return ToolResult(
    status: process.process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
    stderr: String(decoding: err, as: UTF8.self))
}

struct RunningTool {
  var process: Process
  var standardOutputPipe: Pipe
  var standardErrorPipe: Pipe
}

func startExtract(_ arguments: [String], environment: [String: String]? = nil) throws -> RunningTool {
  let process = Process()
  process.executableURL = productsDirectory.appendingPathComponent("extract")
  process.arguments = arguments
  var env = ProcessInfo.processInfo.environment
  for (key, value) in environment ?? [:] { env[key] = value }
  process.environment = env
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  return RunningTool(process: process, standardOutputPipe: out, standardErrorPipe: err)
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
