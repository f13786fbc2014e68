// 'caffe' preprocessing: BGR order, ImageNet means subtracted, float32.
import XCTest

@testable import ImageIO

final class CaffeTests: XCTestCase {
  func testKnownValues() {
    // Two pixels: pure red and (0, 128, 255).
    let image = RGBImage(width: 2, height: 1, pixels: [255, 0, 0, 0, 128, 255])
    var out = [Float](repeating: .nan, count: 8)  // one spare slot must stay untouched
    out.withUnsafeMutableBufferPointer { caffePreprocess(image, into: $0) }
    // Keras: x[..., ::-1] - [103.939, 116.779, 123.68] in float32.
    let expected: [Float] = [
      0 - 103.939, 0 - 116.779, 255 - 123.68,
      255 - 103.939, 128 - 116.779, 0 - 123.68,
    ]
    XCTAssertEqual(Array(out[0..<6]), expected)
    XCTAssertTrue(out[6].isNaN && out[7].isNaN)
    XCTAssertEqual(out[2], 131.32, accuracy: 1e-4)
  }

  /// A batch (N, H, W, 3) filled one slice per image.
  func testFillsBatchSlices() {
    let a = RGBImage(width: 1, height: 1, pixels: [1, 2, 3])
    let b = RGBImage(width: 1, height: 1, pixels: [4, 5, 6])
    var batch = [Float](repeating: 0, count: 6)
    batch.withUnsafeMutableBufferPointer { buf in
      caffePreprocess(a, into: UnsafeMutableBufferPointer(rebasing: buf[0..<3]))
      caffePreprocess(b, into: UnsafeMutableBufferPointer(rebasing: buf[3..<6]))
    }
    XCTAssertEqual(batch[0], Float(3) - 103.939)
    XCTAssertEqual(batch[5], Float(4) - 123.68)
  }
}
