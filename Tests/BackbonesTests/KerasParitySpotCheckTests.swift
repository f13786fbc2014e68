import Backbones
import Foundation
import XCTest

/// Compares against real Keras numbers written by Tests/Fixtures/check_backbone_numbers.py;
/// skipped unless HEADSTART_PARITY_DIR points at that script's output (the committed
/// end-to-end fixtures cover parity in normal runs).
final class KerasParitySpotCheckTests: XCTestCase {
  func testAgainstKerasOutput() throws {
    guard let dir = ProcessInfo.processInfo.environment["HEADSTART_PARITY_DIR"] else {
      throw XCTSkip("set HEADSTART_PARITY_DIR to the output of check_backbone_numbers.py")
    }
    for kind in BackboneKind.allCases {
      let header = try String(contentsOfFile: "\(dir)/\(kind.rawValue).txt", encoding: .utf8).split(
        separator: "\n")
      let dims = header[0].split(separator: " ").map { Int($0)! }
      let taps = header[1].split(separator: ",").map(String.init)
      let input = try floats("\(dir)/\(kind.rawValue)_input.f32")
      let expected = try floats("\(dir)/\(kind.rawValue)_expected.f32")
      let backbone = try Backbone(kind: kind, weights: SyntheticWeights.make(kind, seed: 0))
      let got = try input.withUnsafeBufferPointer {
        try backbone.features($0, count: dims[0], height: dims[1], width: dims[2], taps: taps)
      }
      XCTAssertEqual(got.count, expected.count)
      var worst: Float = 0
      for i in 0..<min(got.count, expected.count) { worst = max(worst, abs(got[i] - expected[i])) }
      print("Keras parity \(kind) \(dims) \(taps): max |diff| = \(worst)")
      XCTAssertLessThan(worst, 1e-5, "\(kind)")
    }
  }

  private func floats(_ path: String) throws -> [Float] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
  }
}
