// Keras parity, end to end: the committed features computed by real Keras
// (Tests/Fixtures/make_keras_fixtures.py) against `extract` run on the same image files with the
// same synthetic weights, written into a Keras-layout weight file and read back by the real loader.

import Backbones
import FeatureStore
import Foundation
import ToolTesting
import XCTest

private struct ParityManifest: Decodable {
  struct Case: Decodable {
    var name: String
    var backbone: String
    var height: Int
    var width: Int
    var interpolation: String
    var taps: [String]
    var images: [String]
    var rows: Int
    var dim: Int
    var file: String
  }
  var cases: [Case]
}

final class KerasParityTests: XCTestCase {
  /// The documented tolerance: max |difference| on L2-normalised features.
  static let tolerance: Float = 1e-5

  /// One weight file per backbone, shared by the cases (ResNet50's is 94 MB).
  nonisolated(unsafe) private static var weightFiles: [BackboneKind: String] = [:]
  nonisolated(unsafe) private static var weightFolder: URL?

  override class func tearDown() {
    if let folder = weightFolder { try? FileManager.default.removeItem(at: folder) }
  }

  private func weightFile(for kind: BackboneKind) throws -> String {
    if let path = Self.weightFiles[kind] { return path }
    let folder =
      Self.weightFolder
      ?? FileManager.default.temporaryDirectory
      .appendingPathComponent("headstart-parity-weights-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    Self.weightFolder = folder
    let path = folder.appendingPathComponent("\(kind.rawValue)_synthetic_seed0.h5").path
    var layerOrder: [String] = []
    for spec in parameterSpecs(for: kind) where layerOrder.last != spec.layer { layerOrder.append(spec.layer) }
    try writeKerasWeights(SyntheticWeights.make(kind, seed: 0), layerOrder: layerOrder, to: path, layout: .keras2)
    Self.weightFiles[kind] = path
    return path
  }

  private func runCase(named name: String) throws {
    let manifestURL = fixturesDirectory.appendingPathComponent("keras/manifest.json")
    let manifest = try JSONDecoder().decode(ParityManifest.self, from: Data(contentsOf: manifestURL))
    guard let testCase = manifest.cases.first(where: { $0.name == name }) else {
      return XCTFail("no case \(name) in \(manifestURL.path)")
    }
    let kind = try XCTUnwrap(BackboneKind(rawValue: testCase.backbone))
    let folder = try temporaryFolder(self, "parity")
    let images = folder.appendingPathComponent("images")
    try copy(testCase.images.map { fixturesDirectory.appendingPathComponent($0) }, into: images)
    let output = folder.appendingPathComponent("features.h5").path
    let taps = testCase.taps == kind.blockTaps ? "blocks" : testCase.taps.joined(separator: ",")
    let result = try runExtract([
      "--images", images.path, "--output", output, "--backbone", kind.rawValue,
      "--weights", try weightFile(for: kind), "--size", "\(testCase.height)x\(testCase.width)",
      "--interpolation", testCase.interpolation, "--taps", taps, "--batch-size", "4", "--quiet",
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    let file = try FeatureFile.read(path: output)
    XCTAssertEqual(file.failedPaths, [], "\(file.failedReasons)")
    XCTAssertEqual(file.dimension, testCase.dim)
    XCTAssertEqual(file.attributes.taps, testCase.taps)

    let expected = try Data(contentsOf: fixturesDirectory.appendingPathComponent(testCase.file))
    XCTAssertEqual(expected.count, testCase.rows * testCase.dim * 4)
    var worst: Float = 0
    var worstImage = ""
    for (row, image) in testCase.images.enumerated() {
      let name = (image as NSString).lastPathComponent
      guard let ours = file.paths.firstIndex(of: name) else {
        XCTFail("\(name) missing from the output")
        continue
      }
      for j in 0..<testCase.dim {
        let keras = expected.withUnsafeBytes {
          Float(
            bitPattern: UInt32(
              littleEndian: $0.loadUnaligned(fromByteOffset: (row * testCase.dim + j) * 4, as: UInt32.self)))
        }
        let difference = abs(file.features[ours * testCase.dim + j] - keras)
        if difference > worst || difference.isNaN {
          worst = difference
          worstImage = name
        }
      }
    }
    print(
      "parity \(name): max |ours - keras| = \(worst) over \(testCase.rows) images x \(testCase.dim) (worst: \(worstImage))"
    )
    XCTAssertLessThanOrEqual(worst, Self.tolerance, "case \(name), worst image \(worstImage)")
  }

  func testResNet50Nearest224() throws { try runCase(named: "resnet50_224x224_nearest_last") }
  func testResNet50Bilinear224() throws { try runCase(named: "resnet50_224x224_bilinear_last") }
  func testResNet50NonSquare() throws { try runCase(named: "resnet50_160x224_nearest_last") }
  func testResNet50BlocksPreset() throws { try runCase(named: "resnet50_96x96_nearest_blocks") }
  func testVGG16Nearest224() throws { try runCase(named: "vgg16_224x224_nearest_last") }
  func testVGG19Bilinear224() throws { try runCase(named: "vgg19_224x224_bilinear_last") }
  func testVGG16BlocksPreset() throws { try runCase(named: "vgg16_96x128_nearest_blocks") }
}
