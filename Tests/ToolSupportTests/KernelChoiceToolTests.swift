// The kernel choice end to end, on the built `headstart`: a user's OPENBLAS_CORETYPE is respected
// and reported, a generic fallback is corrected by re-execution (through the test hook
// HEADSTART_ASSUME_BLAS_CORE, since this machine's OpenBLAS may well recognise its CPU), and a
// plain `--version` reports the ISA and a measured sgemm speed.

import Engine
import Support
import ToolTesting
import XCTest

final class KernelChoiceToolTests: XCTestCase {
  /// Every variable the kernel choice reads, so the test process' own environment cannot leak in.
  private let kernelVariables = ["OPENBLAS_CORETYPE", "HEADSTART_BLAS_CORRECTED_FROM", "HEADSTART_ASSUME_BLAS_CORE"]

  private func version(_ environment: [String: String]) throws -> ToolResult {
    try runTool(
      nil, ["--version"], environment: environment,
      unsetting: kernelVariables.filter { environment[$0] == nil })
  }

  private func kernelLine(_ result: ToolResult) -> String {
    result.stdout.split(separator: "\n").first { $0.hasPrefix("GEMM kernels:") }.map(String.init) ?? ""
  }

  func testUsersCoreTypeIsRespectedAndReported() throws {
    let result = try version(["OPENBLAS_CORETYPE": "Prescott"])
    XCTAssertEqual(result.status, 0, result.stderr)
    let line = kernelLine(result)
    XCTAssertTrue(line.hasPrefix("GEMM kernels: OpenBLAS Prescott (OPENBLAS_CORETYPE=Prescott set by the user"), line)
    XCTAssertFalse(result.stdout.contains("chosen by headstart"), result.stdout)
    XCTAssertEqual(result.stderr, "")
  }

  func testGenericFallbackIsCorrectedByReexecution() throws {
    let cpu = CPUInfo.current
    guard cpu.isa >= .avx2 else { throw XCTSkip("this CPU has no AVX2+FMA: nothing to correct to") }
    guard blasConfiguration().contains("DYNAMIC_ARCH") else {
      throw XCTSkip("this OpenBLAS is not DYNAMIC_ARCH: it cannot switch kernels")
    }
    guard case .correct(let target, _) = chooseBLASKernels(cpu: cpu, reportedCore: "Prescott", userCoreType: nil)
    else { return XCTFail("an AVX2 CPU on Prescott should be corrected") }
    let result = try version(["HEADSTART_ASSUME_BLAS_CORE": "Prescott"])
    XCTAssertEqual(result.status, 0, result.stderr)
    let line = kernelLine(result)
    XCTAssertTrue(
      line.hasPrefix("GEMM kernels: OpenBLAS \(target) (chosen by headstart; OpenBLAS picked Prescott"), line)
    XCTAssertEqual(result.stderr, "")

    // The re-executed tool gets the same arguments: a bad one is still refused with exit code 2.
    let refused = try runTool(
      "extract", ["--images", "x", "--output", "y.h5", "--size", "big"],
      environment: ["HEADSTART_ASSUME_BLAS_CORE": "Prescott"], unsetting: Array(kernelVariables.prefix(2)))
    XCTAssertEqual(refused.status, 2)
    XCTAssertTrue(refused.stderr.contains("--size big"), refused.stderr)
  }

  func testPlainVersionReportsISAAndSGEMMSpeed() throws {
    let result = try version([:])
    XCTAssertEqual(result.status, 0, result.stderr)
    let lines = result.stdout.split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.first, "headstart \(headstartVersion)")
    XCTAssertTrue(lines.contains("vector ISA: \(CPUInfo.current.isa)"), result.stdout)
    XCTAssertTrue(lines.contains { $0.hasPrefix("CPU: ") && $0.contains(CPUInfo.current.brand) }, result.stdout)
    XCTAssertTrue(lines.contains { $0.hasPrefix("threads: ") }, result.stdout)
    let sgemm = lines.first { $0.hasPrefix("sgemm: ") } ?? ""
    let gflops = Double(sgemm.dropFirst("sgemm: ".count).prefix { $0 != " " }) ?? 0
    XCTAssertGreaterThan(gflops, 0, sgemm)
    XCTAssertTrue(sgemm.contains("GFLOP/s"), sgemm)

    let help = try runTool("extract", ["--help"])
    XCTAssertEqual(help.status, 0)
    XCTAssertTrue(help.stdout.contains("--version"), help.stdout)
  }
}
