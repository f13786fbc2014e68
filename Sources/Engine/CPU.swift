// The CPU the process runs on, as CPUID and the operating system report it (CKernels/cpu.c),
// and the vector instruction set Headstart's own kernels and the BLAS can use on it.
import CKernels

/// The widest vector instruction set the CPU offers and the OS enables, in increasing order.
public enum VectorISA: Int, Comparable, Sendable, CustomStringConvertible {
  /// Baseline x86-64 (or not x86 at all).
  case sse2
  case sse42
  /// AVX2 with FMA3: 8 floats per instruction.
  case avx2
  /// AVX-512 F/CD/BW/DQ/VL: 16 floats per instruction.
  case avx512

  public static func < (a: VectorISA, b: VectorISA) -> Bool { a.rawValue < b.rawValue }

  public var description: String {
    switch self {
    case .sse2: "SSE2"
    case .sse42: "SSE4.2"
    case .avx2: "AVX2+FMA"
    case .avx512: "AVX-512"
    }
  }
}

/// Identification of a CPU: vendor, model and vector instruction set.
public struct CPUInfo: Sendable, Equatable {
  /// CPUID's vendor string, "GenuineIntel" or "AuthenticAMD" ("" off x86).
  public var vendor: String
  /// The brand string, e.g. "AMD EPYC 9R14 96-Core Processor" ("" when not reported).
  public var brand: String
  /// Display family and model (extended fields folded in), e.g. 6 / 207, 25 / 17.
  public var family: Int
  public var model: Int
  public var isa: VectorISA

  public init(vendor: String, brand: String, family: Int, model: Int, isa: VectorISA) {
    self.vendor = vendor
    self.brand = brand
    self.family = family
    self.model = model
    self.isa = isa
  }

  /// The CPU this process runs on.
  public static let current: CPUInfo = {
    let c = hs_cpu()!.pointee
    let isa: VectorISA =
      c.avx512 && c.avx2 && c.fma ? .avx512 : c.avx2 && c.fma ? .avx2 : c.sse42 ? .sse42 : .sse2
    return CPUInfo(
      vendor: fixedString(c.vendor), brand: fixedString(c.brand), family: Int(c.family), model: Int(c.model),
      isa: isa)
  }()

  /// "AMD EPYC 9R14 (AuthenticAMD family 25 model 17)".
  public var summary: String {
    let name = brand.isEmpty ? "unknown CPU" : brand
    return vendor.isEmpty ? name : "\(name) (\(vendor) family \(family) model \(model))"
  }
}

/// A C `char[N]` tuple as a Swift string, up to its first NUL.
private func fixedString<T>(_ tuple: T) -> String {
  withUnsafeBytes(of: tuple) { raw in
    let bytes = raw.prefix { $0 != 0 }
    return String(decoding: bytes, as: UTF8.self)
  }
}
