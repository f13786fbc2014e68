// stopIdleBLASThreads: OpenBLAS' worker threads end, and the next multi-threaded product starts
// them again and is still right. Read through OpenBLAS' own flag `blas_server_avail` (1 while
// its workers exist); skipped where the BLAS is not a multi-threaded OpenBLAS.

import XCTest

@testable import Engine

#if canImport(Glibc)
  import Glibc
#endif

final class IdleBLASThreadsTests: XCTestCase {
  /// OpenBLAS' flag, or nil when the BLAS in this process has none.
  private func workersRunning() -> Bool? {
    #if canImport(Glibc)
      guard let program = dlopen(nil, RTLD_LAZY) else { return nil }
      defer { dlclose(program) }
      guard let symbol = dlsym(program, "blas_server_avail") else { return nil }
      return symbol.assumingMemoryBound(to: Int32.self).pointee != 0
    #else
      return nil
    #endif
  }

  func testWorkersStopAndTheNextProductStartsThemAgain() throws {
    guard workersRunning() != nil else { throw XCTSkip("this BLAS has no OpenBLAS worker threads") }
    let saved = blasThreads()
    defer { setBLASThreads(saved) }
    setBLASThreads(2)
    guard blasThreads() == 2 else { throw XCTSkip("OpenBLAS runs one thread here") }
    // Large enough for OpenBLAS to split it between its threads.
    let n = 192
    let a = (0..<(n * n)).map { Float(($0 * 7919) % 101) / 101 - 0.5 }
    let b = (0..<(n * n)).map { Float(($0 * 104_729) % 89) / 89 - 0.5 }
    var c = [Float](repeating: 0, count: n * n)
    func product() { c.withUnsafeMutableBufferPointer { gemm($0.baseAddress!, a, b, m: n, n: n, k: n) } }

    product()
    XCTAssertEqual(workersRunning(), true)
    stopIdleBLASThreads()
    XCTAssertEqual(workersRunning(), false)
    c = [Float](repeating: 0, count: n * n)
    product()
    XCTAssertEqual(workersRunning(), true)
    for (i, j) in [(0, 0), (n - 1, n - 1), (17, 150), (150, 17), (n / 2, n / 3)] {
      var expected = 0.0
      for p in 0..<n { expected += Double(a[i * n + p]) * Double(b[p * n + j]) }
      XCTAssertEqual(Double(c[i * n + j]), expected, accuracy: 1e-4, "c[\(i)][\(j)]")
    }
  }
}
