// The one command's surface: `headstart --help` lists the four commands, `help COMMAND` and
// `COMMAND --help` show a command's options, an unknown command or option exits 2 with one line
// naming it, and the completion scripts the installer writes can be generated.

import ToolTesting
import XCTest

final class CommandLineTests: XCTestCase {
  private let commands = ["extract", "fit-heads", "finetune", "predict"]

  func testHelpListsEveryCommandWithOneLine() throws {
    let help = try runTool(nil, ["--help"])
    XCTAssertEqual(help.status, 0, help.stderr)
    let lines = help.stdout.split(separator: "\n").map(String.init)
    for command in commands {
      let listed = lines.filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix(command + " ") }
      XCTAssertEqual(listed.count, 1, "\(command) in:\n\(help.stdout)")
    }
    let bare = try runTool(nil, [])
    XCTAssertEqual(bare.status, 0, bare.stderr)
    XCTAssertEqual(bare.stdout, help.stdout)
  }

  func testEachCommandHasItsOwnHelp() throws {
    for command in commands {
      let help = try runTool(command, ["--help"])
      XCTAssertEqual(help.status, 0, help.stderr)
      XCTAssertTrue(help.stdout.contains("USAGE: headstart \(command)"), help.stdout)
      let viaHelp = try runTool("help", [command])
      XCTAssertEqual(viaHelp.status, 0, viaHelp.stderr)
      XCTAssertTrue(viaHelp.stdout.contains("USAGE: headstart \(command)"), viaHelp.stdout)
    }
  }

  func testUnknownCommandOrOptionExitsTwoWithOneLine() throws {
    let unknown = try runTool("extrakt", ["--images", "x"])
    XCTAssertEqual(unknown.status, 2)
    XCTAssertEqual(unknown.stderr.split(separator: "\n").count, 1, unknown.stderr)
    XCTAssertTrue(unknown.stderr.hasPrefix("headstart: "), unknown.stderr)
    XCTAssertTrue(unknown.stderr.contains("extrakt"), unknown.stderr)
    XCTAssertEqual(unknown.stdout, "")

    let option = try runTool("fit-heads", ["--features", "f.h5", "--epohcs", "3"])
    XCTAssertEqual(option.status, 2)
    XCTAssertEqual(option.stderr.split(separator: "\n").count, 1, option.stderr)
    XCTAssertTrue(option.stderr.hasPrefix("headstart fit-heads: "), option.stderr)
    XCTAssertTrue(option.stderr.contains("--epohcs"), option.stderr)

    // Closed sets are enums: a misspelt value names the values allowed.
    let optimizer = try runTool("fit-heads", ["--features", "f.h5", "--optimizer", "adamw"])
    XCTAssertEqual(optimizer.status, 2)
    XCTAssertTrue(optimizer.stderr.contains("adamw"), optimizer.stderr)
    XCTAssertTrue(optimizer.stderr.contains("rmsprop"), optimizer.stderr)
  }

  func testCompletionScriptsAreGenerated() throws {
    for shell in ["bash", "zsh", "fish"] {
      let script = try runTool(nil, ["--generate-completion-script", shell])
      XCTAssertEqual(script.status, 0, script.stderr)
      for command in commands { XCTAssertTrue(script.stdout.contains(command), "\(shell): \(command)") }
    }
  }
}
