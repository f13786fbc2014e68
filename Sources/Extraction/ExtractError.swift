/// What can stop an extraction, and how the tool exits for it.
public enum ExtractError: Error, CustomStringConvertible, Equatable {
  /// A bad argument or input the user must fix before anything runs: exit code 2, nothing written.
  case usage(String)
  /// `--strict` met an image that cannot be used: exit code 1, finished batches kept for a rerun.
  case strictStop(String)
  /// The run itself failed (disk full, output vanished): exit code 1, finished batches kept.
  case runtime(String)

  public var description: String {
    switch self {
    case .usage(let message), .strictStop(let message), .runtime(let message): return message
    }
  }

  /// The process exit code for this error.
  public var exitCode: Int32 {
    switch self {
    case .usage: return 2
    case .strictStop, .runtime: return 1
    }
  }
}
