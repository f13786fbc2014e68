// The one place the engine calls OpenBLAS. Matrices are row-major.
import CBLAS

#if canImport(Glibc)
  import Glibc
#endif

/// Sets the number of OpenBLAS threads. The engine parallelises only through BLAS, so this is
/// the whole of its parallelism; kernels that call BLAS never add threads of their own.
public func setBLASThreads(_ count: Int) {
  openblas_set_num_threads(Int32(max(1, count)))
}

/// The number of threads OpenBLAS currently uses.
public func blasThreads() -> Int { Int(openblas_get_num_threads()) }

/// c (m, n) = a (m, k) x b (k, n) + beta * c, all row-major and densely packed.
@inline(__always)
func gemm(
  _ c: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
  m: Int, n: Int, k: Int, beta: Float = 0
) {
  cblas_sgemm(
    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
    1, a, Int32(k), b, Int32(n), beta, c, Int32(n))
}

/// c (m, n) = op(a) (m, k) x op(b) (k, n) + beta * c, row-major and densely packed, where
/// op(a) is a (m, k) or, with `transA`, the transpose of a stored (k, m); likewise b. Training
/// needs the transposes (x^T dy, dy W^T) without copying the operands.
@inline(__always)
func gemm(
  _ c: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
  m: Int, n: Int, k: Int, transA: Bool, transB: Bool, beta: Float
) {
  cblas_sgemm(
    CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
    Int32(m), Int32(n), Int32(k), 1, a, Int32(transA ? m : k), b, Int32(transB ? k : n), beta, c,
    Int32(n))
}

/// The name of the kernel set OpenBLAS chose at load time ("Haswell", "SkylakeX", "Prescott", ...),
/// from its CPU detection or from `OPENBLAS_CORETYPE`.
public func blasCoreName() -> String {
  guard let name = openblas_get_corename() else { return "unknown" }
  return String(cString: name)
}

/// OpenBLAS' build configuration, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
public func blasConfiguration() -> String {
  guard let config = openblas_get_config() else { return "unknown" }
  return String(cString: config)
}

/// Ends OpenBLAS' worker threads now, when the library has them (the pthread build's
/// `blas_thread_shutdown_`; a later multi-threaded call starts them again). OpenBLAS starts its
/// workers while it loads, and each spins on a core for its thread timeout (~0.1 s) before
/// sleeping: the first tenth of a second of a program that then runs its own threads, such as
/// fit-heads' training, shares the cores with it. Looked up at run time: other BLAS builds do
/// not have it, and then nothing happens.
public func stopIdleBLASThreads() {
  #if canImport(Glibc)
    typealias Shutdown = @convention(c) () -> Int32
    guard let program = dlopen(nil, RTLD_LAZY) else { return }
    defer { dlclose(program) }
    guard let symbol = dlsym(program, "blas_thread_shutdown_") else { return }
    _ = unsafeBitCast(symbol, to: Shutdown.self)()
  #endif
}
