// The engine's own inference kernels (CKernels): a GEMM against a right-hand matrix packed once,
// with the convolution epilogue fused, in the widest vector build the CPU supports.
//
// Why not BLAS here: a layer's weights are the same for every batch, but sgemm packs them
// again on every call and zeroes its output before writing it; on VGG16 those two took a fifth
// of the run (perf, OpenBLAS 0.3.21). Training keeps BLAS (BLAS.swift): its operands change.
import CKernels

/// Which build of the engine's own kernels runs.
public enum KernelLevel: Int, Comparable, Sendable, CustomStringConvertible, CaseIterable {
  case portable = 0
  case avx2 = 1
  case avx512 = 2

  public static func < (a: KernelLevel, b: KernelLevel) -> Bool { a.rawValue < b.rawValue }

  public var description: String {
    switch self {
    case .portable: "portable C"
    case .avx2: "AVX2+FMA"
    case .avx512: "AVX-512"
    }
  }

  /// The widest build this CPU and OS support.
  public static var best: KernelLevel { KernelLevel(rawValue: Int(hs_kernels_best().rawValue))! }
  /// The build in use.
  public static var active: KernelLevel { KernelLevel(rawValue: Int(hs_kernels_active().rawValue))! }

  /// Uses `level` (clamped to `best`) from now on and returns the level set. Every build
  /// computes the same products; tests use this to check the narrower ones.
  @discardableResult
  public static func force(_ level: KernelLevel) -> KernelLevel {
    KernelLevel(rawValue: Int(hs_kernels_force(hs_kernel_level(rawValue: UInt32(level.rawValue))).rawValue))!
  }
}

/// Floats a (k, n) matrix takes once packed.
public func packedCount(rows k: Int, columns n: Int) -> Int { hs_packed_count(Int32(k), Int32(n)) }

/// b (k, n) row-major, packed for `gemmPacked` (`packedCount(rows: k, columns: n)` floats).
public func packMatrix(_ b: UnsafeBufferPointer<Float>, rows k: Int, columns n: Int) -> [Float] {
  precondition(b.count >= k * n, "packMatrix: b is not (\(k), \(n))")
  return [Float](unsafeUninitializedCapacity: packedCount(rows: k, columns: n)) { out, count in
    hs_pack(out.baseAddress!, b.baseAddress!, Int32(k), Int32(n), Int32(n))
    count = out.count
  }
}

/// c (m, n) = activation(a (m, k) x B + bias + residual), B packed by `packMatrix`; row
/// strides lda, ldc, ldr. One thread: callers split rows.
@inline(__always)
func gemmPacked(
  _ c: UnsafeMutablePointer<Float>, ldc: Int, _ a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
  m: Int, n: Int, k: Int, bias: UnsafePointer<Float>? = nil, residual: UnsafePointer<Float>? = nil, ldr: Int = 0,
  activation: Activation = .identity
) {
  hs_gemm_packed(
    Int32(m), Int32(n), Int32(k), a, Int32(lda), packed, c, Int32(ldc), bias, residual, Int32(ldr),
    activation == .relu ? 1 : 0)
}
