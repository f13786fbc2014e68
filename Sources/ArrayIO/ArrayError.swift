/// Why an array file cannot be used: one line naming the file and the problem, for a person to
/// act on. Every malformed, truncated or unsupported input ends here, never in a crash.
public struct ArrayError: Error, CustomStringConvertible, Equatable, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
