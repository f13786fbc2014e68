// Running the built `headstart` command as a user would, for the end-to-end tests of every tool: one place
// for finding the products, starting a tool and collecting its exit status and output.

import Foundation

/// The folder holding the built products (the tools and the test bundle).
public var productsDirectory: URL {
  for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
    return bundle.bundleURL.deletingLastPathComponent()
  }
  return Bundle.main.bundleURL
}

/// Tests/Fixtures in the source tree.
public let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("Fixtures")

/// The repository root.
public let repositoryRoot = fixturesDirectory.deletingLastPathComponent().deletingLastPathComponent()

/// A finished tool: its exit status and everything it printed.
public struct ToolResult: Sendable {
  public var status: Int32
  public var stdout: String
  public var stderr: String
}

/// A started tool, with the pipes its output goes to.
public struct RunningTool {
  public var process: Process
  public var standardOutputPipe: Pipe
  public var standardErrorPipe: Pipe

  /// Reads the output to its end and waits for the exit.
  public func finish() -> ToolResult {
    let out = standardOutputPipe.fileHandleForReading.readDataToEndOfFile()
    let err = standardErrorPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ToolResult(
      status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
      stderr: String(decoding: err, as: UTF8.self))
  }
}

/// The built `headstart` executable.
public var headstartExecutable: URL { productsDirectory.appendingPathComponent("headstart") }

/// Starts `headstart COMMAND arguments...` (`command` nil: `headstart arguments...`);
/// `environment` adds to (or overrides) this process' environment, and the variables named in
/// `unsetting` are removed from it.
public func startTool(
  _ command: String?, _ arguments: [String], environment: [String: String] = [:], unsetting: [String] = []
) throws -> RunningTool {
  let process = Process()
  process.executableURL = headstartExecutable
  process.arguments = (command.map { [$0] } ?? []) + arguments
  if !environment.isEmpty || !unsetting.isEmpty {
    var merged = ProcessInfo.processInfo.environment
    for (key, value) in environment { merged[key] = value }
    for key in unsetting { merged[key] = nil }
    process.environment = merged
  }
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  return RunningTool(process: process, standardOutputPipe: out, standardErrorPipe: err)
}

/// Runs `headstart COMMAND arguments...` and waits for it.
@discardableResult
public func runTool(
  _ command: String?, _ arguments: [String], environment: [String: String] = [:], unsetting: [String] = []
) throws -> ToolResult {
  try startTool(command, arguments, environment: environment, unsetting: unsetting).finish()
}
