// Running the built tools as a user would, and small inputs for them: image folders with bad
// files, a feature file from the real `extract`, heads files built by hand.

import FeatureStore
import Foundation
import Heads
import Support
import ToolTesting
import XCTest

/// A fresh temporary folder, removed at the end of the test.
func temporaryFolder(_ test: XCTestCase, _ name: String) throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("headstart-\(name)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
  return url
}

/// A folder of four fixture images (JPEG, grey JPEG, palette PNG, a 20x15 JPEG) in two
/// subfolders, plus three files that are not usable images: text named `.jpg`, a JPEG cut in
/// half, an empty `.png`.
func writeImageFolder(_ folder: URL) throws {
  let fixtures = fixturesDirectory.appendingPathComponent("images")
  let manager = FileManager.default
  for sub in ["a", "b"] {
    try manager.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
  }
  let good = [
    ("a/astronaut.jpg", "astronaut_baseline_q90_256x256.jpg"), ("a/camera.jpg", "camera_gray_180x180.jpg"),
    ("b/chelsea.png", "chelsea_palette_trns_160x106.png"), ("tiny.jpg", "coffee_tiny_20x15.jpg"),
  ]
  for (name, fixture) in good {
    try manager.copyItem(at: fixtures.appendingPathComponent(fixture), to: folder.appendingPathComponent(name))
  }
  try Data("this is not an image\n".utf8).write(to: folder.appendingPathComponent("a/notes.jpg"))
  let jpeg = try Data(contentsOf: fixtures.appendingPathComponent("rocket_444_portrait_150x200.jpg"))
  try jpeg.prefix(jpeg.count / 2).write(to: folder.appendingPathComponent("b/truncated.jpg"))
  try Data().write(to: folder.appendingPathComponent("empty.png"))
}

/// Heads of every kind on features of width `width`, parameters drawn from `seed`:
///   style    softmax over three classes, one hidden layer of 5
///   tags     sigmoid over two labels, thresholds 0.45 and 0.55
///   score    tanh onto [1, 10]
///   hue      embedding, 3 dimensions, a wheel of four classes
/// The weights are scaled up so that the outputs vary between images (random heads on
/// L2-normalised features would otherwise sit near their biases).
func handBuiltHeads(provenance: FeatureFileAttributes, seed: UInt64 = 1) -> HeadsFile {
  var specs = [
    HeadSpec(name: "style", kind: .softmax, outputs: 3, hidden: [5]),
    HeadSpec(name: "tags", kind: .sigmoid, outputs: 2),
    HeadSpec(name: "score", kind: .tanh, outputs: 1),
  ]
  specs.append(.embedding(name: "hue", dimensions: 3, wheelClasses: ["Red", "Yellow", "Green", "Blue"]))
  let width = provenance.tapWidths.reduce(0, +)
  var generator = SplitMix64(seed: seed)
  let count = MultiHeadModel.parameterCount(specs: specs, inputWidth: width)
  let scale = Float(8 / Double(width).squareRoot())
  let parameters = (0..<count).map { _ in Float(generator.nextGaussian()) * scale }
  return HeadsFile(
    specs: specs,
    columns: ["style": "style", "tags": "tags", "score": "score", "hue": "hue"],
    classNames: ["style": ["calm", "busy, loud", "\"quoted\""], "tags": ["warm", "high_contrast"]],
    labelRanges: ["score": 1...10], thresholds: ["tags": [0.45, 0.55]], parameters: parameters,
    inputWidth: width, provenance: provenance,
    training: TrainingRecord(
      optimizer: "adam", optimizerSettings: ["learning_rate": 0.01], epochsRun: 1, bestEpoch: 1, batchSize: 32,
      seed: seed, history: ["loss": [1]]),
    toolVersion: "test")
}

/// A parsed CSV as rows of column -> cell.
func csvRecords(_ path: String) throws -> (header: [String], rows: [[String: String]]) {
  let table = try CSVTable(contentsOf: path)
  return (
    table.header,
    table.rows.map { Dictionary(uniqueKeysWithValues: zip(table.header, $0).map { ($0, $1) }) }
  )
}

/// Every line of a JSON lines file as a dictionary.
func jsonRecords(_ path: String) throws -> [[String: Any]] {
  let text = try String(contentsOfFile: path, encoding: .utf8)
  return try text.split(separator: "\n").map {
    try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
  }
}

/// Hand-built heads on extract's random ResNet50 weights (seed 4) at 32 x 32, written into
/// `folder` as heads.h5; returns its path.
func randomWeightsHeadsFile(in folder: URL) throws -> String {
  var provenance = FeatureFileAttributes(
    backbone: "resnet50", weightsFile: "random (seed 4)", weightsSHA256: "", height: 32, width: 32,
    interpolation: "bilinear", exif: "apply", taps: ["conv5_block3_out"], tapWidths: [2048], toolVersion: "test")
  provenance.warning = "RANDOM WEIGHTS (seed 4): these features are meaningless for real use"
  let path = folder.appendingPathComponent("heads.h5").path
  try handBuiltHeads(provenance: provenance).write(to: path)
  return path
}
