// Progress of long runs (`ProgressLine`, so Foundation's `Progress` is never shadowed): a live line on a terminal, a log line every few seconds otherwise.

import Foundation

/// Reports done/total, images per second and the time left, on standard error.
public final class ProgressLine {
  enum Style { case live, log, quiet }

  private let total: Int
  private let style: Style
  private let start = Date()
  private let startDone: Int
  private var lastPrint = Date.distantPast
  private let logInterval: TimeInterval

  /// `alreadyDone` images were finished before this run (they do not count towards the rate).
  public init(total: Int, alreadyDone: Int, quiet: Bool, logInterval: TimeInterval = 5) {
    self.total = total
    self.startDone = alreadyDone
    self.logInterval = logInterval
    if quiet {
      style = .quiet
    } else {
      style = isatty(STDERR_FILENO) != 0 ? .live : .log
    }
  }

  /// Called after each batch with the number of images finished so far (this run and before).
  public func update(done: Int) {
    let now = Date()
    switch style {
    case .quiet: return
    case .live:
      guard now.timeIntervalSince(lastPrint) >= 0.2 || done == total else { return }
      lastPrint = now
      FileHandle.standardError.write(Data(("\r\u{1B}[K" + line(done: done, now: now)).utf8))
    case .log:
      guard now.timeIntervalSince(lastPrint) >= logInterval || done == total else { return }
      lastPrint = now
      FileHandle.standardError.write(Data((line(done: done, now: now) + "\n").utf8))
    }
  }

  /// Ends the live line so the summary starts on a fresh one.
  public func finish() {
    if style == .live { FileHandle.standardError.write(Data("\n".utf8)) }
  }

  private func line(done: Int, now: Date) -> String {
    let elapsed = now.timeIntervalSince(start)
    let rate = elapsed > 0 ? Double(done - startDone) / elapsed : 0
    let percent = total > 0 ? 100 * Double(done) / Double(total) : 100
    let width = 24
    let filled = total > 0 ? min(width, width * done / total) : width
    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
    let eta = rate > 0 ? formatDuration(Double(total - done) / rate) : "--"
    return String(format: "[%@] %d/%d (%.0f%%)  %.1f images/s  ETA %@", bar, done, total, percent, rate, eta)
  }
}

/// `1h02m`, `3m05s`, `12s`.
func formatDuration(_ seconds: Double) -> String {
  let s = Int(seconds.rounded())
  if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
  if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
  return "\(s)s"
}
