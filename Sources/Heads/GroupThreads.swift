// Threads for the groups of heads HeadsTrainer trains at once. DispatchQueue.concurrentPerform
// may run its iterations one after another on one thread (it does on a single core), which is
// fine for independent work but deadlocks two groups that hand a split head's results to each
// other within a batch (SplitHead.swift). So every group gets a thread of its own: the calling
// thread and helpers that live as long as the trainer and sleep between runs.

import Dispatch
import Foundation

/// Runs `body(g)` for g in 0 ..< count, each on its own thread, all at the same time.
final class GroupThreads: @unchecked Sendable {
  let count: Int
  private let state: State

  /// What the helper threads share with the caller; a class of its own so the threads do not
  /// keep the GroupThreads alive (its deinit stops them).
  private final class State: @unchecked Sendable {
    var job: ((Int) -> Void)?
    var stopping = false
    let starts: [DispatchSemaphore]
    let done = DispatchSemaphore(value: 0)
    init(count: Int) { starts = (0..<count).map { _ in DispatchSemaphore(value: 0) } }
  }

  init(count: Int) {
    precondition(count >= 1)
    self.count = count
    let state = State(count: count)
    self.state = state
    for g in 1..<max(1, count) {
      let thread = Thread {
        while true {
          state.starts[g].wait()
          if state.stopping { return }
          state.job!(g)
          state.done.signal()
        }
      }
      thread.name = "heads-group-\(g)"
      thread.start()
    }
  }

  deinit {
    state.stopping = true
    for g in 1..<max(1, count) { state.starts[g].signal() }
  }

  /// Runs `body(0)` here and `body(g)` for the other groups on their threads; returns when all
  /// have returned.
  func run(_ body: @escaping (Int) -> Void) {
    state.job = body
    for g in 1..<max(1, count) { state.starts[g].signal() }
    body(0)
    for _ in 1..<max(1, count) { state.done.wait() }
    state.job = nil
  }
}
