// `headstart merge`: shard files from `extract --shard K/N` joined into one feature file.

import ArgumentParser
import Extraction
import Foundation
import Support
import ToolSupport

struct MergeCommand: ParsableCommand, UnforeseenErrorExitCode {
  static let configuration = CommandConfiguration(
    commandName: "merge",
    abstract: "Join the shard files of `extract --shard K/N` into the feature file one run would have written.",
    discussion: """
      Every shard is checked first: complete, made with the same settings from the same images, all of the \
      same N, each K exactly once. Any problem is refused with one line naming the shard, and nothing is \
      written. The shards may be given in any order (a shell glob is fine).

      Example:
        headstart merge --output features.h5 parts/part-*-of-00016.h5
      """,
    version: headstartVersion)

  @Option(help: ArgumentHelp("The merged feature file.", valueName: "file.h5"))
  var output: String

  @Argument(help: ArgumentHelp("The shard files.", valueName: "shard.h5"))
  var shards: [String] = []

  @Flag(help: "Replace an existing output.")
  var overwrite = false

  @Flag(help: "No summary line.")
  var quiet = false

  /// As extract: errors outside ExtractError have always exited 2.
  static let unforeseenErrorExitCode: Int32 = 2

  func run() throws {
    let lock = try OutputLock.acquire(for: output)
    defer { lock?.release() }
    let summary = try mergeShards(shards, output: output, overwrite: overwrite)
    if !quiet {
      print(
        "merged \(summary.shards) shards: \(summary.rows) rows, \(summary.failed) failed"
          + String(format: "; %.1f s -> %@", summary.seconds, summary.output))
    }
  }
}
