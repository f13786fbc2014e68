// Whether the GEMM kernels OpenBLAS chose fit the CPU, and what to use instead when they do not.
//
// Why this exists: a DYNAMIC_ARCH OpenBLAS picks its kernel set ("core") from CPUID while it
// loads. A CPU newer than the library is not in its tables, and OpenBLAS then falls back to a
// generic core: Debian 12's OpenBLAS 0.3.21 runs Intel family 6 model 207 (Emerald Rapids, with
// AVX-512) on its SSE3 "Prescott" kernels, 48 GFLOP/s where its SkylakeX/Cooperlake kernels
// give 280. The fix is to name the core in OPENBLAS_CORETYPE, which OpenBLAS reads only while
// it initialises; ToolSupport does that (by re-executing the tool) when this function says so.
//
// The decision is a pure function of the CPU, the core OpenBLAS reports and the user's own
// OPENBLAS_CORETYPE, so a table test covers every case without the CPUs themselves.

/// What to do about the GEMM kernels OpenBLAS chose at load time.
public enum BLASKernelDecision: Equatable, Sendable {
  /// The kernels fit the CPU (or the choice is the user's, or not ours to judge).
  case keep
  /// The kernels are far narrower than the CPU: load OpenBLAS again with `OPENBLAS_CORETYPE`
  /// set to `core`. `reason` says in a clause what was wrong, for reports.
  case correct(to: String, reason: String)
  /// Keep the kernels, but tell the user they will be slow and why (one line).
  case warn(String)
}

/// The kind of kernels an OpenBLAS x86-64 core name stands for, as far as single-precision GEMM
/// cares. Names are those of OpenBLAS' `corename[]` table (driver/others/dynamic.c).
public enum BLASCoreKind: Equatable, Sendable {
  /// AVX-512 kernels: SkylakeX, Cooperlake (SkylakeX's SGEMM plus bfloat16), SapphireRapids.
  case avx512
  /// AVX2 + FMA3 kernels: Haswell, Zen.
  case avx2
  /// AMD's pre-Zen cores (Bulldozer ... Excavator): tuned for those CPUs, which have FMA (FMA4,
  /// and FMA3 from Piledriver on) but half-rate 256-bit units. Right on those CPUs, wrong on others.
  case amdPreZen
  /// Kernels without AVX2 and FMA: SSE-only cores, and Sandybridge (AVX without FMA).
  case generic
  /// A name not in this table: a newer OpenBLAS, another architecture, or "Unknown".
  case unrecognised

  /// Classifies an OpenBLAS core name (case-insensitively, as OpenBLAS compares them).
  public init(coreName: String) {
    switch coreName.lowercased() {
    case "skylakex", "cooperlake", "sapphirerapids": self = .avx512
    case "haswell", "zen": self = .avx2
    case "bulldozer", "piledriver", "steamroller", "excavator": self = .amdPreZen
    case "prescott", "katmai", "coppermine", "northwood", "banias", "core2", "penryn", "dunnington", "nehalem",
      "atom", "sandybridge", "barcelona", "bobcat", "opteron", "opteron_sse3", "nano":
      self = .generic
    default: self = .unrecognised
    }
  }
}

/// Decides whether OpenBLAS' kernels suit `cpu`.
///
/// - Parameters:
///   - cpu: the CPU, from CPUID (`CPUInfo.current`).
///   - reportedCore: the core OpenBLAS says it uses (`blasCoreName()`).
///   - userCoreType: the user's own `OPENBLAS_CORETYPE`, if set; nil or empty when not.
///   - dynamicArch: whether the library can switch cores at all (built with DYNAMIC_ARCH, as
///     Debian's and most distributions' are); a single-target build ignores OPENBLAS_CORETYPE.
///
/// The rules, in order:
/// 1. The user's OPENBLAS_CORETYPE is respected, even "Prescott": they asked for it (to compare
///    kernels, or to avoid one that misbehaves on their machine).
/// 2. Off x86 (no CPUID vendor) the table below means nothing: keep.
/// 3. A CPU without AVX2+FMA cannot run better kernels than the ones it has: keep, but say that
///    GEMM will be several times slower than on a current CPU.
/// 4. AVX-512 or AVX2 kernels are kept, even AVX2 ones on an AVX-512 CPU: OpenBLAS picks those
///    deliberately (when the OS lacks AVX-512 state, or for CPUs whose AVX-512 does not pay), and
///    on Zen 4 Haswell, Zen and SkylakeX measured within noise of each other. The loss this
///    function exists for is the generic fallback, 4-6x.
/// 5. AMD's pre-Zen cores are kept on their own CPUs (AMD family 21), corrected elsewhere.
/// 6. Names this table does not know are kept: probably a newer OpenBLAS that knows better.
/// 7. A generic core on an AVX2 or AVX-512 CPU is corrected: to SkylakeX on AVX-512 (it runs on
///    every AVX-512 CPU with F/CD/BW/DQ/VL, and Cooperlake's SGEMM is the same code; Cooperlake
///    would also need AVX512-BF16), to Zen on AMD and Hygon, Haswell elsewhere. A library built
///    for one target cannot be corrected, so then it is a warning instead.
public func chooseBLASKernels(
  cpu: CPUInfo, reportedCore: String, userCoreType: String?, dynamicArch: Bool = true
) -> BLASKernelDecision {
  if let userCoreType, !userCoreType.isEmpty { return .keep }
  guard !cpu.vendor.isEmpty else { return .keep }
  guard cpu.isa >= .avx2 else {
    return .warn(
      "this CPU has no AVX2+FMA (\(cpu.isa) at most), so OpenBLAS runs its \(reportedCore) kernels: "
        + "expect several times slower arithmetic than on a CPU with AVX2")
  }
  switch BLASCoreKind(coreName: reportedCore) {
  case .avx512, .avx2, .unrecognised:
    return .keep
  case .amdPreZen where cpu.vendor == "AuthenticAMD" && cpu.family == 21:
    return .keep
  case .amdPreZen, .generic:
    let target =
      cpu.isa == .avx512 ? "SkylakeX" : ["AuthenticAMD", "HygonGenuine"].contains(cpu.vendor) ? "Zen" : "Haswell"
    guard dynamicArch else {
      return .warn(
        "this OpenBLAS was built for \(reportedCore) only and cannot use this CPU's \(cpu.isa): "
          + "expect several times slower arithmetic; a DYNAMIC_ARCH OpenBLAS (as Debian's) fixes it")
    }
    return .correct(
      to: target,
      reason: "OpenBLAS did not recognise this CPU and chose its \(reportedCore) kernels, which do not use \(cpu.isa)")
  }
}
