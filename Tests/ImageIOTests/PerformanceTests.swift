// Decode + resize timing for a typical photo (500x375 JPEG -> 224x224): a benchmark, not a test
// (it prints figures and asserts nothing about them), so it runs only when asked, in release:
//   HEADSTART_TIMING=1 swift test -c release -Xswiftc -enable-testing --filter ImageIOTests.PerformanceTests
// Decoding itself is checked pixel for pixel against Pillow in DecodeTests.
import Foundation
import XCTest

@testable import ImageIO

final class PerformanceTests: XCTestCase {
  func testDecodeAndResizeTiming() throws {
    guard ProcessInfo.processInfo.environment["HEADSTART_TIMING"] != nil else {
      throw XCTSkip("a timing benchmark: HEADSTART_TIMING=1, release build")
    }
    let manifest = try loadManifest()
    let bytes = try fixtureBytes(manifest.perf)
    func milliseconds(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
      let start = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<repeats { try body() }
      return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(repeats)
    }
    let (image, _) = try bytes.withUnsafeBytes { try decodeImage($0) }
    XCTAssertEqual([image.width, image.height], [500, 375])
    let repeats = 50
    let decode = try milliseconds(repeats) { _ = try bytes.withUnsafeBytes { try decodeImage($0) } }
    var line = String(format: "timing 500x375 JPEG: decode %.2f ms", decode)
    for interpolation in Interpolation.allCases {
      let t = milliseconds(repeats) {
        _ = resize(image, height: 224, width: 224, interpolation: interpolation)
      }
      line += String(format: ", resize %@ %.2f ms", interpolation.rawValue, t)
    }
    let caffe = milliseconds(repeats) {
      var out = [Float](repeating: 0, count: 224 * 224 * 3)
      let small = resize(image, height: 224, width: 224, interpolation: .nearest)
      out.withUnsafeMutableBufferPointer { caffePreprocess(small, into: $0) }
    }
    print(line + String(format: ", nearest+caffe %.2f ms", caffe))
  }
}
