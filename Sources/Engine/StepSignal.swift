// A counter one thread raises and another waits on (CKernels/step_signal.c), for threads that
// work on the same batch and hand results to each other within it.
import CKernels

/// A monotonic counter shared by two threads: one raises it, the other waits for a value.
/// Waiting spins briefly, then yields the CPU.
public final class StepSignal: @unchecked Sendable {
  private let counter: UnsafeMutablePointer<Int>

  public init() {
    counter = .allocate(capacity: 1)
    counter.initialize(to: 0)
  }

  deinit { counter.deallocate() }

  /// Back to zero; only while no thread raises or waits.
  public func reset() { hs_signal_raise(counter, 0) }

  /// Sets the counter to `value` (release: what this thread wrote before is visible to a waiter).
  public func raise(to value: Int) { hs_signal_raise(counter, value) }

  /// Returns once the counter is at least `value`.
  public func wait(atLeast value: Int) { hs_signal_wait(counter, value) }
}
