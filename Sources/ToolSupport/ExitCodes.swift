// The exit-code contract of `headstart` and every command of it, in one place:
//   0  done (also `--help`, `--version`, completion scripts)
//   2  bad arguments or input the user must fix: one line on stderr, nothing written
//   1  the run itself failed
// Each line on stderr starts with the command, e.g. `headstart fit-heads: no heads: ...`.

import ArgumentParser
import Foundation
import Support

/// An error a command knows how to exit for: its message is the one stderr line, `exitCode` the
/// process status (2 for usage errors, 1 for runtime failures).
public protocol ToolError: Error, CustomStringConvertible {
  var exitCode: Int32 { get }
}

/// A `headstart` command that exits with another status than 1 for errors it did not foresee.
public protocol UnforeseenErrorExitCode {
  /// The status for an error that is neither a `ToolError` nor an argument error.
  static var unforeseenErrorExitCode: Int32 { get }
}

extension ParsableCommand {
  /// Parses the arguments, runs the command chosen and exits with the project's codes: a
  /// `ToolError` with its own code; help, version and completion scripts with 0; argument-parser
  /// usage errors and `ValidationError` with 2; any other error with 1 (or the command's
  /// `UnforeseenErrorExitCode`).
  ///
  /// Before parsing, it makes sure OpenBLAS runs kernels that fit the CPU (which may execute the
  /// program again, see `prepareBLASKernels`), and answers `--version` with the machine report
  /// (`MachineReport`), which argument-parser's static version string cannot hold. Commands set
  /// `version: headstartVersion` in their configuration so that `--help` lists the flag.
  public static func mainWithExitCodes(toolName: String) -> Never {
    let arguments = Array(CommandLine.arguments.dropFirst())
    let name = commandLabel(toolName: toolName, arguments: arguments)
    prepareBLASKernels(toolName: name, arguments: arguments)
    if arguments.prefix(while: { $0 != "--" }).contains("--version") {
      print(MachineReport.current(toolName: toolName).lines.joined(separator: "\n"))
      Foundation.exit(0)
    }
    if let unknown = unknownCommand(arguments) {
      let known = configuration.subcommands.map { $0._commandName }.joined(separator: ", ")
      fail(name, "unknown command '\(unknown)' (the commands: \(known); see \(toolName) --help)", code: 2)
    }
    var unforeseen: Int32 = 1
    do {
      var command = try parseAsRoot()
      if let special = type(of: command) as? any UnforeseenErrorExitCode.Type {
        unforeseen = special.unforeseenErrorExitCode
      }
      try command.run()
      Foundation.exit(0)
    } catch let error as ToolError {
      fail(name, error.description, code: error.exitCode)
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        print(fullMessage(for: error))
        Foundation.exit(0)
      }
      let usage = error is ValidationError || code == .validationFailure
      fail(name, message(for: error), code: usage ? 2 : unforeseen)
    }
  }

  /// The first argument when it should name a command and names none (argument-parser would
  /// complain about the options after it instead).
  static func unknownCommand(_ arguments: [String]) -> String? {
    guard let first = arguments.first, !first.hasPrefix("-"), !configuration.subcommands.isEmpty, first != "help",
      !configuration.subcommands.contains(where: { $0._commandName == first })
    else { return nil }
    return first
  }

  /// "headstart extract" when the first argument names a command, else "headstart": what every
  /// stderr line starts with.
  static func commandLabel(toolName: String, arguments: [String]) -> String {
    guard let first = arguments.first,
      configuration.subcommands.contains(where: { $0._commandName == first })
    else { return toolName }
    return "\(toolName) \(first)"
  }
}

/// Writes `label: message` as one line on stderr and exits with `code`.
private func fail(_ label: String, _ message: String, code: Int32) -> Never {
  FileHandle.standardError.write(Data("\(label): \(message)\n".utf8))
  Foundation.exit(code)
}
