// `--version`'s text from fixed facts, and how the environment says who chose the kernels.

import Engine
import XCTest

@testable import ToolSupport

final class MachineReportTests: XCTestCase {
  private let emeraldRapids = CPUInfo(
    vendor: "GenuineIntel", brand: "INTEL(R) XEON(R) PLATINUM 8573C", family: 6, model: 207, isa: .avx512)

  private func report(core: String, source: BLASKernelSource, cpu: CPUInfo? = nil) -> MachineReport {
    MachineReport(
      toolName: "extract", version: "0.1.0", cpu: cpu ?? emeraldRapids, blasCore: core, source: source,
      blasConfiguration: "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY \(core) MAX_THREADS=64",
      blasThreads: 2, cores: 2, gflops: 277.04, gemmSize: 512)
  }

  func testLinesForOpenBLASOwnChoice() {
    var detected = report(core: "Cooperlake", source: .detected)
    detected.engineKernels = .avx512
    XCTAssertEqual(
      detected.lines,
      [
        "extract 0.1.0",
        "CPU: INTEL(R) XEON(R) PLATINUM 8573C (GenuineIntel family 6 model 207)",
        "vector ISA: AVX-512",
        "GEMM kernels: OpenBLAS Cooperlake (OpenBLAS' own detection)",
        "engine kernels: AVX-512 (Headstart's own: GEMM and Winograd for inference, heads' first layers and Adam for training; OpenBLAS: the rest)",
        "BLAS: OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64",
        "threads: 2 BLAS threads, 2 cores",
        "sgemm: 277.0 GFLOP/s (512x512x512 float32, best of several)",
      ])
  }

  func testKernelLineSaysWhoChose() {
    XCTAssertEqual(
      report(core: "SkylakeX", source: .corrected(from: "Prescott", to: "SkylakeX")).lines[3],
      "GEMM kernels: OpenBLAS SkylakeX (chosen by headstart; OpenBLAS picked Prescott, which does not fit this "
        + "CPU's AVX-512)")
    XCTAssertEqual(
      report(core: "Prescott", source: .user("Prescott")).lines[3],
      "GEMM kernels: OpenBLAS Prescott (OPENBLAS_CORETYPE=Prescott set by the user, respected; this CPU could use "
        + "SkylakeX)")
    XCTAssertEqual(
      report(core: "Cooperlake", source: .user("SapphireRapids")).lines[3],
      "GEMM kernels: OpenBLAS Cooperlake (OPENBLAS_CORETYPE=SapphireRapids set by the user, respected; OpenBLAS "
        + "uses Cooperlake for it)")
    XCTAssertEqual(
      report(core: "Prescott", source: .corrected(from: "Prescott", to: "SkylakeX")).lines[3],
      "GEMM kernels: OpenBLAS Prescott (headstart asked for SkylakeX because OpenBLAS picked Prescott, but OpenBLAS "
        + "did not take it)")
    let westmere = CPUInfo(vendor: "GenuineIntel", brand: "Intel Xeon X5670", family: 6, model: 44, isa: .sse42)
    let slow = report(core: "Nehalem", source: .detected, cpu: westmere).lines[3]
    XCTAssertTrue(slow.hasPrefix("GEMM kernels: OpenBLAS Nehalem (OpenBLAS' own detection; note: "), slow)
    XCTAssertTrue(slow.contains("no AVX2+FMA"), slow)
  }

  func testSourceFromEnvironment() {
    XCTAssertEqual(BLASKernelSource(environment: [:]), .detected)
    XCTAssertEqual(BLASKernelSource(environment: ["OPENBLAS_CORETYPE": ""]), .detected)
    XCTAssertEqual(BLASKernelSource(environment: ["OPENBLAS_CORETYPE": "Prescott"]), .user("Prescott"))
    XCTAssertEqual(
      BLASKernelSource(environment: ["OPENBLAS_CORETYPE": "Zen", "HEADSTART_BLAS_CORRECTED_FROM": "Prescott"]),
      .corrected(from: "Prescott", to: "Zen"))
  }

  func testInformationalArguments() {
    XCTAssertTrue(isInformational(["--help"]))
    XCTAssertTrue(isInformational(["--images", "a", "-h"]))
    XCTAssertTrue(isInformational(["--version"]))
    XCTAssertTrue(isInformational(["help"]))
    XCTAssertFalse(isInformational(["--images", "a", "--output", "b.h5"]))
    XCTAssertFalse(isInformational(["--", "--help"]))
  }
}
