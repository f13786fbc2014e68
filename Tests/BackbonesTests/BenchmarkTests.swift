import Backbones
import Engine
import Foundation
import XCTest

/// Throughput of the fast path; skipped unless HEADSTART_BENCH is set. Run in release:
///   HEADSTART_BENCH=16 [HEADSTART_PASS=16] \
///     swift test -c release -Xswiftc -enable-testing --filter BenchmarkTests
final class BenchmarkTests: XCTestCase {
  func testThroughput() throws {
    guard let value = ProcessInfo.processInfo.environment["HEADSTART_BENCH"], let batch = Int(value) else {
      throw XCTSkip("set HEADSTART_BENCH=<batch> to run")
    }
    setBLASThreads(Int(ProcessInfo.processInfo.environment["HEADSTART_BLAS_THREADS"] ?? "2") ?? 2)
    let kindName = ProcessInfo.processInfo.environment["HEADSTART_BENCH_KIND"] ?? "resnet50"
    for kind in [BackboneKind(rawValue: kindName) ?? .resnet50] {
      let pass = Int(ProcessInfo.processInfo.environment["HEADSTART_PASS"] ?? "") ?? 16
      let backbone = try Backbone(
        kind: kind, weights: SyntheticWeights.make(kind, seed: 0), imagesPerPass: pass)
      let input = (0..<(batch * 224 * 224 * 3)).map { Float($0 % 251) - 125 }
      _ = try input.withUnsafeBufferPointer {
        try backbone.features($0, count: batch, height: 224, width: 224, taps: ["last"])
      }
      let runs = 3
      let start = Date()
      for _ in 0..<runs {
        _ = try input.withUnsafeBufferPointer {
          try backbone.features($0, count: batch, height: 224, width: 224, taps: ["last"])
        }
      }
      let seconds = Date().timeIntervalSince(start)
      print(
        "BENCH \(kind) 224x224 batch \(batch) (passes of \(pass)), \(blasThreads()) BLAS threads: "
          + "\(String(format: "%.2f", Double(runs * batch) / seconds)) images/s")
    }
  }

  /// Per-layer seconds per image and effective GFLOP/s; HEADSTART_PROFILE=<kind> to run
  /// (HEADSTART_PROFILE_IMAGES=<images per pass>, default 16).
  func testLayerProfile() throws {
    guard let name = ProcessInfo.processInfo.environment["HEADSTART_PROFILE"], let kind = BackboneKind(rawValue: name)
    else { throw XCTSkip("set HEADSTART_PROFILE=resnet50|vgg16|vgg19 to run") }
    let images = Int(ProcessInfo.processInfo.environment["HEADSTART_PROFILE_IMAGES"] ?? "") ?? 16
    let backbone = try Backbone(kind: kind, weights: SyntheticWeights.make(kind, seed: 0), imagesPerPass: images)
    let times = backbone.layerTimes(count: images, height: 224, width: 224)
    let total = times.map(\.seconds).reduce(0, +)
    for t in times where t.seconds > total * 0.005 {
      let name = t.name.padding(toLength: 22, withPad: " ", startingAt: 0)
      let method = t.method.padding(toLength: 9, withPad: " ", startingAt: 0)
      let figures = String(
        format: "%7.2f ms %5.1f%% %6.1f GFLOP/s", t.seconds * 1e3, 100 * t.seconds / total,
        t.directFLOPs / t.seconds / 1e9)
      print("PROFILE \(name) \(method) \(figures)")
    }
    print(String(format: "PROFILE total %.1f ms per image, %.2f images/s", total * 1e3, 1 / total))
  }
}
