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

  /// A legacy weight file whose group `conv1_bn` has an object header claiming 2^50 bytes.
  /// libhdf5 asks malloc for that much, gets nothing and reports it, and the command refuses
  /// the file with that reason. The preflight's walk of the file does not reach that header;
  /// only opening the group by its name does. Under AddressSanitizer the same request used to
  /// abort the fuzzer instead: asan rejects such sizes unless `allocator_may_return_null` is set,
  /// as scripts/fuzz.sh now sets it for this target.
  func testAnObjectHeaderOfImpossibleSizeIsRefused() throws {
    let path = findings.appendingPathComponent("impossible-header-size.h5").path
    XCTAssertThrowsError(try readKerasWeightFile(path: path)) { error in
      XCTAssertTrue("\(error)".contains("cannot open group"), "\(error)")
      XCTAssertTrue("\(error)".contains("memory allocation failed"), "\(error)")
    }
  }
}
