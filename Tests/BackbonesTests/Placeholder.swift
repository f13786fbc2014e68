import XCTest

final class BackbonesTestsPlaceholder: XCTestCase {
  func testPlaceholder() {}
}
