// A quick measurement of the machine's single-precision GEMM speed, for `--version` and the
// benchmark headers: the number that says at once whether the BLAS runs at full vector width.

import Foundation

/// Measures the BLAS' sgemm speed in GFLOP/s on square products of `size`, through the same
/// `gemm` wrapper the engine uses, with the current BLAS threads.
///
/// One small warm-up product first (OpenBLAS starts its threads and touches its buffers on the
/// first call), then products of `size` until at least `repeats` ran and `budget` seconds passed
/// (or `4 * repeats` ran); the best time counts, as the others only add scheduling noise. At
/// size 512 a product is 0.27 GFLOP: about 1.3 ms at 200 GFLOP/s and 6 ms on a generic core.
public func measureSGEMM(size: Int = 512, repeats: Int = 3, budget: Double = 0.01) -> Double {
  precondition(size >= 1 && repeats >= 1)
  let count = size * size
  let a = UnsafeMutablePointer<Float>.allocate(capacity: count)
  let b = UnsafeMutablePointer<Float>.allocate(capacity: count)
  let c = UnsafeMutablePointer<Float>.allocate(capacity: count)
  defer {
    a.deallocate()
    b.deallocate()
    c.deallocate()
  }
  // Values of ordinary size (denormals or NaNs could slow some kernels down).
  for i in 0..<count {
    a[i] = Float(i % 17) * 0.0625 - 0.5
    b[i] = Float(i % 13) * 0.0625 - 0.375
  }
  let warmUp = min(size, 128)
  gemm(c, a, b, m: warmUp, n: warmUp, k: warmUp)

  var best = Double.infinity
  var runs = 0
  let started = DispatchTime.now().uptimeNanoseconds
  while runs < repeats || (runs < 4 * repeats && seconds(since: started) < budget) {
    let t0 = DispatchTime.now().uptimeNanoseconds
    gemm(c, a, b, m: size, n: size, k: size)
    best = min(best, seconds(since: t0))
    runs += 1
  }
  return 2 * Double(size) * Double(size) * Double(size) / max(best, 1e-9) / 1e9
}

private func seconds(since start: UInt64) -> Double {
  Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
