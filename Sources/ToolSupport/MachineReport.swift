// What `--version` prints: the tool and, because Headstart's speed depends on it, what it runs
// on: the CPU, its vector instruction set, the GEMM kernels in use and how they were chosen (the
// BLAS' and the engine's own), the threads, and a quick sgemm measurement (a few ms) that shows
// at once a BLAS on generic kernels.

import Engine
import Foundation
import Support

/// The facts `--version` reports, gathered once; `lines` formats them.
public struct MachineReport: Sendable {
  public var toolName: String
  public var version: String
  public var cpu: CPUInfo
  /// The core name OpenBLAS reports (`blasCoreName()`).
  public var blasCore: String
  public var source: BLASKernelSource
  /// OpenBLAS' build configuration (`blasConfiguration()`).
  public var blasConfiguration: String
  public var blasThreads: Int
  public var cores: Int
  /// Measured sgemm speed and the size measured (`measureSGEMM`).
  public var gflops: Double
  public var gemmSize: Int
  /// The build of Headstart's own inference kernels in use (`KernelLevel.active`).
  public var engineKernels: KernelLevel = .active

  public init(
    toolName: String, version: String, cpu: CPUInfo, blasCore: String, source: BLASKernelSource,
    blasConfiguration: String, blasThreads: Int, cores: Int, gflops: Double, gemmSize: Int
  ) {
    self.toolName = toolName
    self.version = version
    self.cpu = cpu
    self.blasCore = blasCore
    self.source = source
    self.blasConfiguration = blasConfiguration
    self.blasThreads = blasThreads
    self.cores = cores
    self.gflops = gflops
    self.gemmSize = gemmSize
  }

  /// The report for this process, with the sgemm measured now (a few milliseconds).
  public static func current(toolName: String) -> MachineReport {
    let size = 512
    return MachineReport(
      toolName: toolName, version: headstartVersion, cpu: .current, blasCore: blasCoreName(),
      source: BLASKernelSource(environment: ProcessInfo.processInfo.environment),
      blasConfiguration: Engine.blasConfiguration(), blasThreads: Engine.blasThreads(),
      cores: ProcessInfo.processInfo.activeProcessorCount, gflops: measureSGEMM(size: size), gemmSize: size)
  }

  /// The report's lines, e.g.
  ///
  ///     headstart 0.1.0
  ///     CPU: AMD EPYC 9R14 96-Core Processor (AuthenticAMD family 25 model 17)
  ///     vector ISA: AVX-512
  ///     GEMM kernels: OpenBLAS Cooperlake (OpenBLAS' own detection)
  ///     engine kernels: AVX-512 (Headstart's own: GEMM and Winograd for inference, heads' first layers and Adam for training; OpenBLAS: the rest)
  ///     BLAS: OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64
  ///     threads: 2 BLAS threads, 2 cores
  ///     sgemm: 201.3 GFLOP/s (512x512x512 float32, best of several)
  public var lines: [String] {
    [
      "\(toolName) \(version)",
      "CPU: \(cpu.summary)",
      "vector ISA: \(cpu.isa)",
      "GEMM kernels: OpenBLAS \(blasCore) (\(kernelProvenance))",
      "engine kernels: \(engineKernels) (Headstart's own: GEMM and Winograd for inference, heads' first layers and Adam for training; OpenBLAS: the rest)",
      "BLAS: \(blasConfiguration)",
      "threads: \(blasThreads) BLAS thread\(blasThreads == 1 ? "" : "s"), \(cores) core\(cores == 1 ? "" : "s")",
      String(format: "sgemm: %.1f GFLOP/s (%dx%dx%d float32, best of several)", gflops, gemmSize, gemmSize, gemmSize),
    ]
  }

  /// How the kernels were chosen, and anything the user should know about them.
  var kernelProvenance: String {
    let dynamicArch = blasConfiguration.contains("DYNAMIC_ARCH")
    switch source {
    case .detected:
      // Only a CPU without AVX2 (or a single-target build) gets here with a note: a generic
      // fallback on a capable CPU would have been corrected at start-up.
      let decision = chooseBLASKernels(cpu: cpu, reportedCore: blasCore, userCoreType: nil, dynamicArch: dynamicArch)
      if case .warn(let message) = decision { return "OpenBLAS' own detection; note: \(message)" }
      return "OpenBLAS' own detection"
    case .user(let value):
      var text = "\(BLASKernelEnvironment.coreType)=\(value) set by the user, respected"
      if value.lowercased() != blasCore.lowercased() {
        text += "; OpenBLAS uses \(blasCore) for it"
      }
      let unset = chooseBLASKernels(cpu: cpu, reportedCore: blasCore, userCoreType: nil, dynamicArch: dynamicArch)
      if case .correct(let better, _) = unset { text += "; this CPU could use \(better)" }
      return text
    case .corrected(let from, let requested):
      guard requested.lowercased() == blasCore.lowercased() else {
        return "headstart asked for \(requested) because OpenBLAS picked \(from), but OpenBLAS did not take it"
      }
      return "chosen by headstart; OpenBLAS picked \(from), which does not fit this CPU's \(cpu.isa)"
    }
  }
}
