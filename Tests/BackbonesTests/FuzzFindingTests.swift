// Weight files the fuzzer (Fuzz/, FuzzKerasWeights) made that once crashed the reader: each must
// now be refused with a reason. Kept in Tests/Fixtures/fuzz/weights.
import Backbones
import Foundation
import XCTest

private let findings = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz/weights")

final class FuzzFindingTests: XCTestCase {
  /// A tiny file whose damaged dataspace declares a kernel of billions of values (17 GB, and
  /// 3 x 4294967292 x 3 x 4 floats): the reader allocated what the shape said and died. Now the
  /// declared size is checked against what the file stores first.
  func testHugeDeclaredShapesAreRefused() throws {
    for name in ["huge-declared-shape.weights.h5", "huge-declared-shape-2.weights.h5"] {
      let path = findings.appendingPathComponent(name).path
      XCTAssertThrowsError(try readKerasWeightFile(path: path), name) { error in
        XCTAssertTrue(error is WeightFileError, "\(error)")
        XCTAssertTrue("\(error)".contains("declares far more data than"), "\(error)")
      }
    }
  }
}
