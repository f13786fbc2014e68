// `--max-memory`: a feature matrix that does not fit is read from the file a chunk of rows at a
// time. Streaming changes which rows share a batch (FeatureSource.swift) but must stay
// deterministic per seed and train about as well as the in-memory order; and the row-range
// reader must return exactly the rows a whole read does.

import FeatureStore
import Foundation
import Heads
import Support
import ToolTesting
import XCTest

@testable import Fitting

final class StreamingTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("fit-heads-stream-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  /// 600 rows of 16 L2-normalised features; `shape` the argmax of a 3-class linear teacher,
  /// `score` a 1..10 tanh teacher; rows split 450 train / 150 val by a `split` column.
  private func writeFile() throws -> String {
    let (n, d) = (600, 16)
    var g = SplitMix64(seed: 77)
    let features = normalizedGaussianRows(n, d, using: &g)
    let teacher = (0..<(3 * d)).map { _ in g.nextGaussian() }
    let regressor = (0..<d).map { _ in g.nextGaussian() }
    var shape: [Int32] = []
    var score: [Float] = []
    for i in 0..<n {
      let x = features[(i * d)..<((i + 1) * d)].map(Double.init)
      let logits = (0..<3).map { c in zip(teacher[(c * d)..<((c + 1) * d)], x).map(*).reduce(0, +) }
      shape.append(Int32(logits.indices.max { logits[$0] < logits[$1] }!))
      score.append(Float(1 + 9 * (tanh(zip(regressor, x).map(*).reduce(0, +)) + 1) / 2))
    }
    let path = folder.appendingPathComponent("stream.h5").path
    let writer = try FeatureFileWriter(
      path: path,
      attributes: FeatureFileAttributes(
        backbone: "resnet50", weightsFile: "teacher", weightsSHA256: "", height: 224, width: 224,
        interpolation: "nearest", exif: "ignore", taps: ["teacher"], tapWidths: [d], toolVersion: "test"),
      dimension: d)
    try features.withUnsafeBufferPointer { try writer.appendRows($0) }
    try writer.finish(
      paths: (0..<n).map { String(format: "img_%04d.jpg", $0) },
      labels: [
        .categorical(name: "shape", classes: ["circle", "square", "triangle"], indices: shape),
        .numeric(name: "score", values: score),
        .categorical(name: "split", classes: ["train", "val"], indices: (0..<n).map { Int32($0 % 4 == 3 ? 1 : 0) }),
      ], failedPaths: [], failedReasons: [])
    return path
  }

  private func options(_ path: String, maxMemory: Int?) -> FitOptions {
    var options = FitOptions(
      features: path,
      heads: [
        HeadRequest(name: "shape", kind: "softmax", column: "shape"),
        HeadRequest(name: "score", kind: "tanh", column: "score"),
      ])
    options.epochs = 30
    options.patience = 30
    options.seed = 5
    options.maxMemory = maxMemory
    return options
  }

  private func accuracyAndMAE(_ result: FitResult) throws -> (Double, Double) {
    let reports = Dictionary(uniqueKeysWithValues: result.heads.map { ($0.name, $0.report) })
    guard case .classification(let shape)? = reports["shape"]?.val, case .regression(let score)? = reports["score"]?.val
    else { throw XCTSkip("unexpected metric kinds") }
    return (shape.accuracy, score.mae)
  }

  func testRowRangesReadTheSameRowsAsAWholeRead() throws {
    let path = try writeFile()
    let whole = try FeatureFile.read(path: path)
    let header = try FeatureFile.read(path: path, features: false)
    XCTAssertEqual(header.rowCount, 600)
    XCTAssertEqual(header.dimension, 16)
    XCTAssertTrue(header.features.isEmpty)
    XCTAssertEqual(header.labels, whole.labels)
    let reader = try FeatureRowReader(path: path)
    var rows = [Float](repeating: .nan, count: 37 * 16)
    try rows.withUnsafeMutableBufferPointer { try reader.read(rows: 100..<137, into: $0) }
    XCTAssertEqual(rows, Array(whole.features[(100 * 16)..<(137 * 16)]))
    XCTAssertThrowsError(try rows.withUnsafeMutableBufferPointer { try reader.read(rows: 590..<627, into: $0) })
  }

  func testStreamingIsDeterministicAndTrainsLikeInMemory() throws {
    let path = try writeFile()
    var lines: [String] = []
    let inMemory = try runFit(options(path, maxMemory: nil))
    // 600 x 16 floats are 38,400 bytes; a 12,000-byte budget streams chunks of 46 rows.
    let streamed = try runFit(options(path, maxMemory: 12_000)) { lines.append($0) }
    let again = try runFit(options(path, maxMemory: 12_000))
    XCTAssertTrue(lines.contains { $0.hasPrefix("streaming features") }, lines.joined(separator: "\n"))
    XCTAssertEqual(streamed.model.parameters, again.model.parameters, "same seed, same streamed training")
    XCTAssertEqual(streamed.history.map(\.train.total), again.history.map(\.train.total))
    XCTAssertNotEqual(streamed.model.parameters, inMemory.model.parameters, "streaming batches rows differently")
    let (memoryAccuracy, memoryMAE) = try accuracyAndMAE(inMemory)
    let (streamAccuracy, streamMAE) = try accuracyAndMAE(streamed)
    print(
      "in memory: accuracy \(memoryAccuracy), MAE \(memoryMAE); streamed: accuracy \(streamAccuracy), MAE \(streamMAE)"
    )
    XCTAssertEqual(streamAccuracy, memoryAccuracy, accuracy: 0.05)
    XCTAssertEqual(streamMAE, memoryMAE, accuracy: 0.15)
    XCTAssertEqual(streamed.rows.train, inMemory.rows.train)
    // Validation losses are computed over the same rows either way: equal for equal weights.
    let source = FeatureSource(reader: try FeatureRowReader(path: path), chunkRows: 46)
    let file = try FeatureFile.read(path: path)
    let memory = FeatureSource(matrix: file.features, width: file.dimension)
    let rows = Array(stride(from: 3, to: 600, by: 4))
    let a = try predict(streamed.model, source: source, rows: rows)
    let b = try predict(streamed.model, source: memory, rows: rows)
    XCTAssertEqual(a, b)
  }

  /// `--taps` while streaming: each chunk keeps only the chosen columns, so every row equals the
  /// in-memory selection's row, and a streamed run records the narrowed provenance.
  func testStreamingWithTapsReadsTheChosenColumns() throws {
    let path = try writeFile()
    let file = try FeatureFile.read(path: path)
    let columns = [10..<16, 2..<5]
    let expected = gatherColumns(columns, of: file.features, width: 16)
    let source = FeatureSource(reader: try FeatureRowReader(path: path), chunkRows: 46, columns: columns)
    XCTAssertEqual(source.width, 9)
    let rows = Array(stride(from: 1, to: 600, by: 7))
    var got: [Float] = []
    try source.forEachRow(rows) { features, _ in got += features }
    XCTAssertEqual(got, rows.flatMap { expected[($0 * 9)..<(($0 + 1) * 9)] })
    var streamed = options(path, maxMemory: 12_000)
    streamed.taps = ["teacher"]
    streamed.epochs = 2
    var inMemory = streamed
    inMemory.maxMemory = nil
    let a = try runFit(streamed)
    let b = try runFit(inMemory)
    XCTAssertEqual(a.headsFile.provenance.taps, ["teacher"])
    XCTAssertEqual(a.headsFile.inputWidth, 16)
    XCTAssertEqual(a.rows.val, b.rows.val)
  }

  func testDropoutAndWeightDecayReachTheModelAndTheHeadsFile() throws {
    let path = try writeFile()
    var options = options(path, maxMemory: nil)
    options.epochs = 3
    options.heads[0].dropout = 0.25
    options.weightDecay = 0.004
    let result = try runFit(options)
    XCTAssertEqual(result.model.specs.map(\.dropout), [0.25, 0])
    XCTAssertEqual(result.headsFile.training.optimizerSettings["weight_decay"], 0.004)
    let saved = folder.appendingPathComponent("heads.h5").path
    try result.headsFile.write(to: saved)
    XCTAssertEqual(try HeadsFile.read(path: saved).specs.map(\.dropout), [0.25, 0])
    options.heads[1].dropout = 1
    XCTAssertThrowsError(try runFit(options)) { XCTAssertTrue("\($0)".contains("dropout must be in [0, 1)")) }
    let yaml = folder.appendingPathComponent("heads.yaml")
    try "heads:\n  - {name: shape, kind: softmax, column: shape, hidden: [8], dropout: 0.5}\n".write(
      to: yaml, atomically: true, encoding: .utf8)
    XCTAssertEqual(try HeadRequest.load(file: yaml.path).first?.dropout, 0.5)
  }

  func testByteCounts() {
    XCTAssertEqual(parseByteCount("512M"), 512 << 20)
    XCTAssertEqual(parseByteCount("4G"), 4 << 30)
    XCTAssertEqual(parseByteCount("4gib"), 4 << 30)
    XCTAssertEqual(parseByteCount("100KB"), 100 << 10)
    XCTAssertEqual(parseByteCount("1500000"), 1_500_000)
    XCTAssertNil(parseByteCount("lots"))
    XCTAssertNil(parseByteCount("-5M"))
    XCTAssertNil(parseByteCount("0"))
  }
}
