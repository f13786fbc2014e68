import XCTest

@testable import Report

final class PlaceholderTests: XCTestCase {}
