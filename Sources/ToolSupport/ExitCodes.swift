// The exit-code contract every Headstart tool keeps, in one place:
//   0  done (also `--help`, `--version`)
//   2  bad arguments or input the user must fix: one line on stderr, nothing written
//   1  the run itself failed
// Each line on stderr starts with the tool's name, e.g. `fit-heads: no heads: ...`.

import ArgumentParser
import Foundation

/// An error a tool knows how to exit for: its message is the one stderr line, `exitCode` the
/// process status (2 for usage errors, 1 for runtime failures).
public protocol ToolError: Error, CustomStringConvertible {
  var exitCode: Int32 { get }
}

extension ParsableCommand {
  /// Parses the arguments, runs the command and exits with the project's codes: a `ToolError`
  /// with its own code; help and version with 0; argument-parser usage errors and
  /// `ValidationError` with 2; any other error with `otherErrors` (1 where anything unexpected
  /// is a runtime failure; `extract` has always used 2).
  ///
  /// Before parsing, it makes sure OpenBLAS runs kernels that fit the CPU (which may execute the
  /// tool again, see `prepareBLASKernels`), and answers `--version` with the machine report
  /// (`MachineReport`), which argument-parser's static version string cannot hold. Tools set
  /// `version: headstartVersion` in their configuration so that `--help` lists the flag.
  public static func mainWithExitCodes(toolName: String, otherErrors: Int32 = 1) -> Never {
    let arguments = Array(CommandLine.arguments.dropFirst())
    prepareBLASKernels(toolName: toolName, arguments: arguments)
    if arguments.prefix(while: { $0 != "--" }).contains("--version") {
      print(MachineReport.current(toolName: toolName).lines.joined(separator: "\n"))
      Foundation.exit(0)
    }
    do {
      var command = try parseAsRoot()
      try command.run()
      Foundation.exit(0)
    } catch let error as ToolError {
      fail(toolName, error.description, code: error.exitCode)
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        print(fullMessage(for: error))
        Foundation.exit(0)
      }
      let usage = error is ValidationError || code == .validationFailure
      fail(toolName, message(for: error), code: usage ? 2 : otherErrors)
    }
  }
}

/// Writes `toolName: message` as one line on stderr and exits with `code`.
private func fail(_ toolName: String, _ message: String, code: Int32) -> Never {
  FileHandle.standardError.write(Data("\(toolName): \(message)\n".utf8))
  Foundation.exit(code)
}
