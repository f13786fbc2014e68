import XCTest

final class ImageIOTestsPlaceholder: XCTestCase {
  func testPlaceholder() {}
}
