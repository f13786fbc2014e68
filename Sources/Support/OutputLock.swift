// One writer per output: every command that writes a file takes an exclusive lock on
// `OUTPUT.lock` before it touches anything, and a second run on the same output is refused at
// once, naming the holder. The lock is `flock(2)`, which the kernel releases when the process
// ends, however it ends: a `kill -9` never leaves a stale lock (the file may stay; it is only
// the lock that counts). On NFS, flock works when the mount supports it (Linux ≥ 2.6.12 maps it
// to POSIX byte-range locks, with lockd running); on filesystems without locking the refusal
// cannot be guaranteed (Docs/scaling-out.md says so).

import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Another process holds the output's lock.
public struct OutputLockError: Error, CustomStringConvertible, Sendable {
  public var output: String
  /// "pid 1234 on host node7", as the holder recorded it (or "unknown").
  public var holder: String
  public var description: String {
    "\(output) is being written by another run (\(holder)); wait for it to finish, or stop it first"
  }
}

/// An exclusive lock on one output, held until `release()` or the end of the process.
public final class OutputLock {
  public let path: String
  private var descriptor: Int32

  private init(path: String, descriptor: Int32) {
    self.path = path
    self.descriptor = descriptor
  }

  /// Takes the lock for `output` (the file `output + ".lock"`), writing this process' pid and
  /// host into it. Throws `OutputLockError` naming the holder when another process has it; other
  /// failures (no such folder, no permission) are left to the command's own checks, so they
  /// return nil.
  public static func acquire(for output: String) throws -> OutputLock? {
    let path = output + ".lock"
    while true {
      let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
      guard descriptor >= 0 else { return nil }
      if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
        let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
          .trimmingCharacters(in: .whitespacesAndNewlines)
        close(descriptor)
        throw OutputLockError(output: output, holder: holder.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown")
      }
      // The file may have been removed by a holder that just finished; lock the one at the path.
      var opened = stat()
      var current = stat()
      guard fstat(descriptor, &opened) == 0, stat(path, &current) == 0, opened.st_ino == current.st_ino,
        opened.st_dev == current.st_dev
      else {
        close(descriptor)
        continue
      }
      let record = "pid \(getpid()) on host \(ProcessInfo.processInfo.hostName)\n"
      _ = ftruncate(descriptor, 0)
      _ = record.withCString { write(descriptor, $0, strlen($0)) }
      return OutputLock(path: path, descriptor: descriptor)
    }
  }

  /// Removes the lock file and releases the lock.
  public func release() {
    guard descriptor >= 0 else { return }
    unlink(path)
    close(descriptor)
    descriptor = -1
  }

  deinit { release() }
}
