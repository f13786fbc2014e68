// The GEMM kernel decision as a table: CPU, the core OpenBLAS reports, the user's
// OPENBLAS_CORETYPE, and what Headstart should do. The rows are real cases: the Emerald Rapids
// Xeon whose OpenBLAS 0.3.21 fell back to Prescott (issue 9), the Zen 4 EPYC it recognises, and
// the CPUs and builds the rules have to leave alone.

import Engine
import XCTest

final class BLASKernelChoiceTests: XCTestCase {
  private let emeraldRapids = CPUInfo(
    vendor: "GenuineIntel", brand: "INTEL(R) XEON(R) PLATINUM 8573C", family: 6, model: 207, isa: .avx512)
  private let zen4 = CPUInfo(vendor: "AuthenticAMD", brand: "AMD EPYC 9R14", family: 25, model: 17, isa: .avx512)
  private let zen3 = CPUInfo(vendor: "AuthenticAMD", brand: "AMD EPYC 7R13", family: 25, model: 1, isa: .avx2)
  private let alderLake = CPUInfo(
    vendor: "GenuineIntel", brand: "12th Gen Intel Core i7", family: 6, model: 151, isa: .avx2)
  private let hygon = CPUInfo(vendor: "HygonGenuine", brand: "Hygon C86 7185", family: 24, model: 0, isa: .avx2)
  private let excavator = CPUInfo(vendor: "AuthenticAMD", brand: "AMD A10-9700", family: 21, model: 101, isa: .avx2)
  private let westmere = CPUInfo(vendor: "GenuineIntel", brand: "Intel Xeon X5670", family: 6, model: 44, isa: .sse42)
  private let baseline = CPUInfo(vendor: "GenuineIntel", brand: "QEMU Virtual CPU", family: 6, model: 6, isa: .sse2)
  private let arm = CPUInfo(vendor: "", brand: "", family: 0, model: 0, isa: .sse2)

  private enum Expected {
    case keep
    case correct(String)
    case warn(containing: String)
  }

  func testDecisionTable() {
    let rows: [(String, CPUInfo, String, String?, Bool, Expected)] = [
      // name, CPU, reported core, user's OPENBLAS_CORETYPE, DYNAMIC_ARCH, expected
      ("Emerald Rapids on Prescott (issue 9)", emeraldRapids, "Prescott", nil, true, .correct("SkylakeX")),
      ("Emerald Rapids, user asked for Prescott", emeraldRapids, "Prescott", "Prescott", true, .keep),
      ("Emerald Rapids, user's variable set but empty", emeraldRapids, "Prescott", "", true, .correct("SkylakeX")),
      ("Emerald Rapids on Sandybridge (AVX, no FMA)", emeraldRapids, "Sandybridge", nil, true, .correct("SkylakeX")),
      ("Emerald Rapids on Nehalem", emeraldRapids, "Nehalem", nil, true, .correct("SkylakeX")),
      ("Emerald Rapids on Cooperlake", emeraldRapids, "Cooperlake", nil, true, .keep),
      ("Emerald Rapids on SkylakeX", emeraldRapids, "SkylakeX", nil, true, .keep),
      ("AVX-512 CPU on Haswell: OpenBLAS' deliberate AVX2 choice", emeraldRapids, "Haswell", nil, true, .keep),
      (
        "Emerald Rapids, single-target Prescott build", emeraldRapids, "Prescott", nil, false,
        .warn(containing: "built for Prescott")
      ),
      ("Zen 4 on Cooperlake (this machine)", zen4, "Cooperlake", nil, true, .keep),
      ("Zen 4 on Zen", zen4, "Zen", nil, true, .keep),
      ("Zen 4 on Prescott: AVX-512 wins over vendor", zen4, "Prescott", nil, true, .correct("SkylakeX")),
      ("Zen 4, user asked for Haswell", zen4, "Haswell", "Haswell", true, .keep),
      ("Zen 3 on Zen", zen3, "Zen", nil, true, .keep),
      ("Zen 3 on Prescott", zen3, "Prescott", nil, true, .correct("Zen")),
      ("Zen 3 misread as Excavator", zen3, "Excavator", nil, true, .correct("Zen")),
      ("Zen 3 on Barcelona", zen3, "Barcelona", nil, true, .correct("Zen")),
      ("Hygon (Zen) on Prescott", hygon, "Prescott", nil, true, .correct("Zen")),
      ("Excavator on its own kernels", excavator, "Excavator", nil, true, .keep),
      ("Alder Lake on Haswell", alderLake, "Haswell", nil, true, .keep),
      ("Alder Lake on Sandybridge", alderLake, "Sandybridge", nil, true, .correct("Haswell")),
      ("Alder Lake on Prescott, lower-case name", alderLake, "prescott", nil, true, .correct("Haswell")),
      ("Alder Lake on Core2", alderLake, "Core2", nil, true, .correct("Haswell")),
      ("Alder Lake on a core this table does not know", alderLake, "Alderlake", nil, true, .keep),
      ("Alder Lake, OpenBLAS says Unknown", alderLake, "Unknown", nil, true, .keep),
      ("SSE4.2 CPU on Nehalem: slower, say so", westmere, "Nehalem", nil, true, .warn(containing: "no AVX2+FMA")),
      ("SSE2 CPU on Prescott: slower, say so", baseline, "Prescott", nil, true, .warn(containing: "no AVX2+FMA")),
      ("SSE4.2 CPU, user asked for Prescott", westmere, "Prescott", "Prescott", true, .keep),
      ("Not x86 (ARM, OpenBLAS' own core)", arm, "NEOVERSEN1", nil, true, .keep),
      ("Not x86, a core name that means x86", arm, "Prescott", nil, true, .keep),
    ]
    for (name, cpu, core, user, dynamicArch, expected) in rows {
      let decision = chooseBLASKernels(cpu: cpu, reportedCore: core, userCoreType: user, dynamicArch: dynamicArch)
      switch (expected, decision) {
      case (.keep, .keep): break
      case (.correct(let want), .correct(let got, let reason)):
        XCTAssertEqual(got, want, name)
        XCTAssertTrue(reason.contains(core), "\(name): the reason names the core OpenBLAS picked: \(reason)")
      case (.warn(let fragment), .warn(let message)):
        XCTAssertTrue(message.contains(fragment), "\(name): \(message)")
      default:
        XCTFail("\(name): expected \(expected), got \(decision)")
      }
    }
  }

  /// Every core name shipped in Debian 12's OpenBLAS 0.3.21 (`corename[]` in dynamic.c) is in
  /// the table, so none is mistaken for a newer core and kept by default.
  func testEveryKnownCoreNameIsClassified() {
    let shipped = [
      "Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom", "Core2", "Penryn", "Dunnington", "Nehalem",
      "Opteron", "Opteron_SSE3", "Barcelona", "Nano", "Sandybridge", "Bobcat", "Bulldozer", "Piledriver", "Haswell",
      "Steamroller", "Excavator", "Zen", "SkylakeX", "Cooperlake",
    ]
    for name in shipped {
      XCTAssertNotEqual(BLASCoreKind(coreName: name), .unrecognised, name)
    }
    XCTAssertEqual(BLASCoreKind(coreName: "SapphireRapids"), .avx512)
    XCTAssertEqual(BLASCoreKind(coreName: "Sandybridge"), .generic)
  }

  func testSGEMMMeasurementIsPositive() {
    let gflops = measureSGEMM(size: 64, repeats: 2, budget: 0)
    XCTAssertGreaterThan(gflops, 0)
    XCTAssertTrue(gflops.isFinite)
  }
}
