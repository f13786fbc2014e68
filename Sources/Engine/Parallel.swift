// The engine's one parallel-for. Inference kernels split their rows (or Winograd tiles) over
// `computeThreads()` threads, each with its own slice of scratch; BLAS is not called inside,
// so there is one level of parallelism at a time.
import Dispatch
import Foundation

/// Threads the engine's own kernels use: every core unless `setComputeThreads` said otherwise.
nonisolated(unsafe) private var configuredThreads = 0

/// Sets the number of threads the engine's own inference kernels use (at least 1).
public func setComputeThreads(_ count: Int) { configuredThreads = max(1, count) }

/// The number of threads the engine's own inference kernels use.
public func computeThreads() -> Int {
  configuredThreads > 0 ? configuredThreads : ProcessInfo.processInfo.activeProcessorCount
}

/// Runs `body(part, range)` for `parts` contiguous, nearly equal slices of 0 ..< count (sizes
/// differ by at most one; empty slices are skipped), in parallel when parts > 1.
func parallelSlices(_ count: Int, parts: Int, _ body: (_ part: Int, _ range: Range<Int>) -> Void) {
  let parts = max(1, min(parts, count))
  if parts == 1 {
    body(0, 0..<count)
    return
  }
  // The slices are disjoint and `body` returns before this function does, so sharing it (and
  // the buffers it captures) with the worker threads is safe although Swift cannot prove it.
  withoutActuallyEscaping(body) { body in
    nonisolated(unsafe) let body = body
    DispatchQueue.concurrentPerform(iterations: parts) { p in
      body(p, (count * p / parts)..<(count * (p + 1) / parts))
    }
  }
}

/// Threads for a pass over `elements` floats of elementwise work (a batch norm, a ReLU's
/// gradient) between training's GEMMs: every thread from 64K floats on (ResNet50's conv5 over
/// 16 images has 0.4M to 1.6M per tensor), one below, where waking a second costs more than it saves.
func elementwiseParts(_ elements: Int) -> Int { elements >= 1 << 16 ? computeThreads() : 1 }
