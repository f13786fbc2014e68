import XCTest

final class ExtractTestsPlaceholder: XCTestCase {
  func testPlaceholder() {}
}
