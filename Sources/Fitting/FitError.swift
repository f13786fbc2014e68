/// What can stop `fit-heads`, and how the tool exits for it.
public enum FitError: Error, CustomStringConvertible, Equatable {
  /// Bad arguments or input the user must fix: exit code 2, nothing written.
  case usage(String)

  /// The process exit code: 2.
  public var exitCode: Int32 { 2 }

  public var description: String {
    switch self {
    case .usage(let message): return message
    }
  }
}
