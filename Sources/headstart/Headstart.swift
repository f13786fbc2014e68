// `headstart`: the one command. Each subcommand is a thin command line over a library that
// holds the work (Extraction, Fitting, FinetuneJob, Predicting).

import ArgumentParser
import Engine
import HDF5
import Support
import ToolSupport

/// A second run on an output another run is writing: refused at once (exit 2, nothing touched).
extension OutputLockError: ToolError {
  public var exitCode: Int32 { 2 }
}

/// A file whose stored values fail their checksum, wherever a command meets it (the jobs name
/// their inputs by option where they can: `--features F: /features rows ...`): exit 2, the file
/// must be replaced.
extension HDF5ChecksumError: ToolError {
  public var exitCode: Int32 { 2 }
}

@main
struct Headstart: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "headstart",
    abstract: "Transfer learning on images, on the CPU, with Keras' numbers.",
    discussion: """
      A frozen ImageNet backbone runs once over the images (extract); small heads train on the cached \
      features in seconds (fit-heads); the last backbone block can then be trained with them \
      (finetune); predict applies the result to new images.

        headstart extract --images photos/ --output f.h5
        headstart fit-heads --features f.h5 --head kind=softmax:class --output heads.h5
        headstart finetune --images photos/ --heads heads.h5 --output model.h5
        headstart predict --heads heads.h5 --images new/ --output predictions.csv

      'headstart help COMMAND' or 'headstart COMMAND --help' for a command's options; \
      'headstart --version' for the version, the CPU and the kernels in use.
      """,
    version: headstartVersion,
    subcommands: [
      ExtractCommand.self, MergeCommand.self, FitHeadsCommand.self, FinetuneCommand.self, PredictCommand.self,
    ])

  /// Exit codes: 0 done, 2 bad arguments or input (one line, nothing written), 1 the run failed.
  static func main() { mainWithExitCodes(toolName: "headstart") }
}
