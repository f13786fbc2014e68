/// What can stop a prediction run, and how the tool exits for it.
public enum PredictError: Error, CustomStringConvertible, Equatable {
  /// A bad argument or input the user must fix before anything runs: exit code 2, nothing written.
  case usage(String)
  /// The run itself failed (disk full, output folder vanished): exit code 1, no output left behind.
  case runtime(String)

  public var description: String {
    switch self {
    case .usage(let message), .runtime(let message): return message
    }
  }

  /// The process exit code for this error.
  public var exitCode: Int32 {
    switch self {
    case .usage: return 2
    case .runtime: return 1
    }
  }
}
