// The one place where HDF5's C status codes become Swift errors.
//
// Every C call in this module goes through `h5call`: a negative status or identifier is turned
// into an `HDF5Error` naming the operation and the file/object, with HDF5's own innermost
// message as the reason. HDF5's habit of printing its error stack to stderr is switched off
// first (per thread: the library is built thread-safe, and error stacks are per thread).
import CHDF5
import CShims

/// A failed HDF5 operation: what was attempted, on which file or object, and why.
public struct HDF5Error: Error, CustomStringConvertible, Sendable, Equatable {
  /// What was attempted, e.g. "open file", "read dataset".
  public var operation: String
  /// The file and object path, e.g. "weights.h5:/conv1/kernel".
  public var object: String
  /// HDF5's innermost message, or Headstart's own explanation.
  public var reason: String
  /// Whether HDF5's error stack recorded a chunk failing its Fletcher-32 checksum; dataset
  /// reads turn such a failure into an `HDF5ChecksumError` (HDF5Dataset+Checksum.swift).
  var failedChecksum = false

  public init(operation: String, object: String, reason: String) {
    self.operation = operation
    self.object = object
    self.reason = reason
  }

  public var description: String {
    "HDF5: cannot \(operation) \(object): \(reason.isEmpty ? "unknown HDF5 failure" : reason)"
  }
}

/// Runs one HDF5 C call; a negative result becomes an `HDF5Error`.
@discardableResult
func h5call<T: BinaryInteger>(
  _ operation: @autoclosure () -> String, _ object: @autoclosure () -> String, _ body: () -> T
) throws -> T {
  hs_silence_errors()
  let result = body()
  if result < 0 {
    let failure = takeHDF5Failure()
    var error = HDF5Error(operation: operation(), object: object(), reason: failure.message)
    error.failedChecksum = failure.failedChecksum
    throw error
  }
  return result
}

/// Reads and clears the innermost message on this thread's HDF5 error stack.
func takeHDF5Message() -> String { takeHDF5Failure().message }

/// Reads and clears this thread's HDF5 error stack: its innermost message, and whether it
/// records a failed Fletcher-32 checksum.
private func takeHDF5Failure() -> (message: String, failedChecksum: Bool) {
  var buffer = [CChar](repeating: 0, count: 512)
  let failedChecksum = hs_take_error_message(&buffer, buffer.count) != 0
  let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  return (plainReason(message), failedChecksum)
}

/// HDF5's message as one line. A failed read or write carries the C library's whole report
/// (time, file name, descriptor, byte counts, errno, then the system's message) over several
/// lines; only the system's message is kept, e.g. "no space left on device".
func plainReason(_ message: String) -> String {
  let marker = "error message = '"
  if let start = message.firstRange(of: marker)?.upperBound,
    let end = message[start...].firstIndex(of: "'")
  {
    let system = message[start..<end]
    return system.prefix(1).lowercased() + system.dropFirst()
  }
  var line = message.split(separator: "\n").first ?? ""
  while let last = line.last, last == " " || last == "," { line.removeLast() }
  return String(line)
}

/// An HDF5 identifier that is closed exactly once, when the owner goes away.
final class H5Handle {
  /// Whether a file has been closed: shared by the file's handle and the handles of every object
  /// opened in it.
  final class FileState {
    var closed = false
  }

  let id: hid_t
  /// The file this identifier belongs to (its own state when it is the file).
  let file: FileState
  private let isFile: Bool
  private let closer: (hid_t) -> herr_t
  private var open = true

  /// A file's identifier (`file` nil) or that of an object opened in `file`.
  init(_ id: hid_t, closer: @escaping (hid_t) -> herr_t, in file: FileState? = nil) {
    self.id = id
    self.closer = closer
    self.isFile = file == nil
    self.file = file ?? FileState()
  }

  /// Closes now, reporting failure (e.g. a file that cannot be flushed).
  func close(_ what: String) throws {
    guard open else { return }
    open = false
    defer { if isFile { file.closed = true } }
    guard !file.closed else { return }
    try h5call("close", what) { closer(id) }
  }

  deinit {
    // Closing a file closes every object in it (HDF5File's strong close degree), so an object of
    // a closed file is not closed again; nor after a failed close of its file, whose objects
    // HDF5 1.10 has already taken apart (closing one then crashes).
    if open, !file.closed { _ = closer(id) }
    if isFile { file.closed = true }
  }
}

/// Runs `body` with a temporary identifier that is closed afterwards, even when `body` throws.
func withH5<R>(
  _ make: () throws -> hid_t, close: (hid_t) -> herr_t,
  _ body: (hid_t) throws -> R
) throws -> R {
  let id = try make()
  defer { _ = close(id) }
  return try body(id)
}
