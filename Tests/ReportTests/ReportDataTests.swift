// From a real (small) run to the report's data: per-epoch metrics recorded through the
// epochEnded hook agree with the final metrics at the kept epoch, every plot holds the
// validation rows' numbers, the worst rows are the highest-loss ones, and thumbnails come from
// the image folder (or say why not).

import FeatureStore
import Foundation
import Heads
import ImageIO
import Report
import Support
import XCTest

@testable import Fitting

final class ReportDataTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
    try FileManager.default.createDirectory(
      at: folder.appendingPathComponent("images"), withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  /// 300 rows of 16 L2-normalised features with noiseless linear teachers: `shape` (3 classes),
  /// `flag` (no/yes), `score` (1..10), `hue` (wheel sector of the first two coordinates);
  /// split 200 train / 60 val / 40 test. Validation images: most present, every 7th missing,
  /// every 11th not an image.
  private func writeRun(split hasSplit: Bool = true) throws -> (features: String, images: String) {
    let (n, d) = (300, 16)
    var generator = SplitMix64(seed: 7)
    var features = [Float](repeating: 0, count: n * d)
    for i in 0..<n {
      let row = (0..<d).map { _ in generator.nextGaussian() }
      let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
      for j in 0..<d { features[i * d + j] = Float(row[j] / norm) }
    }
    let teacher = (0..<(5 * d)).map { _ in generator.nextGaussian() }
    var shape: [Int32] = []
    var flag: [Int32] = []
    var score: [Float] = []
    var hue: [Int32] = []
    for i in 0..<n {
      let x = features[(i * d)..<((i + 1) * d)].map(Double.init)
      let dot = { (k: Int) in zip(teacher[(k * d)..<((k + 1) * d)], x).map(*).reduce(0, +) }
      let logits = [dot(0), dot(1), dot(2)]
      shape.append(Int32(logits.indices.max { logits[$0] < logits[$1] }!))
      flag.append(dot(3) > 0.3 ? 1 : 0)
      score.append(Float(1 + 9 * (tanh(dot(4)) + 1) / 2))
      let angle = atan2(x[1], x[0]) + Double.pi
      hue.append(Int32(min(11, Int(angle / (2 * Double.pi) * 12))))
    }
    let split = (0..<n).map { Int32($0 < 200 ? 1 : ($0 < 260 ? 2 : 0)) }  // test, train, val
    let paths = (0..<n).map { String(format: "set/img_%03d.jpg", $0) }
    let images = folder.appendingPathComponent("images")
    try FileManager.default.createDirectory(at: images.appendingPathComponent("set"), withIntermediateDirectories: true)
    for row in 200..<260 where row % 7 != 0 {
      let file = images.appendingPathComponent(paths[row])
      if row % 11 == 0 {
        try Data("broken".utf8).write(to: file)
      } else {
        let pixel: [UInt8] = [UInt8((row - 200) * 4), 200, 90]
        let pixels = [[UInt8]](repeating: pixel, count: 40 * 30).flatMap { $0 }
        try Data(try encodeJPEG(RGBImage(width: 40, height: 30, pixels: pixels))).write(to: file)
      }
    }
    let path = folder.appendingPathComponent("features.h5").path
    let writer = try FeatureFileWriter(
      path: path,
      attributes: FeatureFileAttributes(
        backbone: "resnet50", weightsFile: "/w/teacher.h5", weightsSHA256: "", height: 224, width: 224,
        interpolation: "nearest", exif: "ignore", taps: ["teacher"], tapWidths: [d], toolVersion: "test"),
      dimension: d)
    try features.withUnsafeBufferPointer { try writer.appendRows($0) }
    try writer.finish(
      paths: paths,
      labels: [
        .categorical(name: "shape", classes: ["circle", "square", "triangle"], indices: shape),
        .categorical(name: "flag", classes: ["no", "yes"], indices: flag),
        .numeric(name: "score", values: score),
        .categorical(name: "hue", classes: HeadSpec.defaultWheel, indices: hue),
      ] + (hasSplit ? [.categorical(name: "split", classes: ["test", "train", "val"], indices: split)] : []),
      failedPaths: [], failedReasons: [])
    return (path, images.path)
  }

  private func json(_ metrics: HeadMetrics) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return String(decoding: try encoder.encode(metrics), as: UTF8.self)
  }

  func testReportDataAgreesWithTheRun() throws {
    let (features, images) = try writeRun()
    var options = FitOptions(
      features: features,
      heads: try ["shape=softmax:shape", "flag=sigmoid:flag", "score=tanh:score", "hue=embedding:hue"].map(
        HeadRequest.parse))
    options.epochs = 12
    options.patience = 3
    options.recordEpochMetrics = true
    let result = try runFit(options)
    XCTAssertEqual(result.epochMetrics.count, result.epochsRun)
    XCTAssertEqual(result.epochMetrics.first?.count, 4)
    // The kept model is the best epoch's: its per-epoch metrics are the final validation metrics.
    for h in 0..<4 {
      XCTAssertEqual(
        try json(result.epochMetrics[result.bestEpoch - 1][h]), try json(result.heads[h].report.val!),
        result.heads[h].name)
    }
    let valRows = Array(200..<260)
    XCTAssertEqual(result.valOutputs?.rows, valRows)
    XCTAssertEqual(result.testOutputs?.rows, Array(260..<300))

    let document = reportDocument(result, options: options, seconds: 1.25, images: images)
    XCTAssertEqual(document.headlines.map { "\($0.head) \($0.split)" }.count, 8)
    XCTAssertEqual(document.facts.first { $0.name == "rows" }?.value, "train 200 \u{b7} val 60 \u{b7} test 40")
    XCTAssertEqual(document.facts.first { $0.name == "best epoch" }?.value, "\(result.bestEpoch) (weights kept)")
    let sections = Dictionary(uniqueKeysWithValues: document.heads.map { ($0.name, $0) })
    let outputs = result.valOutputs!.outputs

    // softmax: the heat map is the validation confusion matrix; the worst row's loss is the
    // largest -ln p(true class), computed here naively.
    guard case .classification(let shape)? = result.heads[0].report.val,
      case .confusion(let plot)? = sections["shape"]?.panels.first
    else { return XCTFail("shape: expected classification metrics and a confusion panel") }
    XCTAssertEqual(plot.counts, shape.confusion)
    XCTAssertEqual(plot.classNames, ["circle", "square", "triangle"])
    let crossEntropies = valRows.indices.map { i -> Double in
      let label = Int(result.reportContext!.heads[0].classLabels[valRows[i]])
      return -log(max(Double(outputs[0][i * 3 + label]), 1e-7))
    }
    let worst = sections["shape"]!.worst
    XCTAssertEqual(worst.count, 8)
    XCTAssertEqual(worst[0].loss, crossEntropies.max()!, accuracy: 1e-12)
    XCTAssertEqual(worst.map(\.loss), worst.map(\.loss).sorted(by: >))
    XCTAssertEqual(worst[7].loss, crossEntropies.sorted(by: >)[7], accuracy: 1e-12)

    // sigmoid: one score per labelled row in the histogram, split by the true class, at the
    // validation threshold.
    guard case .sigmoid(let flag)? = result.heads[1].report.val,
      case .histogram(let histogram)? = sections["flag"]?.panels.first
    else { return XCTFail("flag: expected sigmoid metrics and a histogram") }
    XCTAssertEqual(
      histogram.scores.map(\.count), [flag.labels[0].count - flag.labels[0].positives, flag.labels[0].positives])
    XCTAssertEqual(histogram.threshold, flag.labels[0].threshold)
    XCTAssertEqual(histogram.classNames, ["no", "yes"])

    // tanh: one point per row, in label units; their MAE is the reported MAE.
    guard case .regression(let score)? = result.heads[2].report.val,
      case .scatter(let scatter)? = sections["score"]?.panels.first
    else { return XCTFail("score: expected regression metrics and a scatter") }
    XCTAssertEqual(scatter.truth.count, 60)
    let mae = zip(scatter.truth, scatter.predicted).map { abs($0 - $1) }.reduce(0, +) / 60
    XCTAssertEqual(mae, score.mae, accuracy: 1e-9)
    let headline = document.headlines.first { $0.head == "score" && $0.split == "val" }!
    XCTAssertEqual(headline.metrics[0].value, score.mae)
    XCTAssertLessThan(headline.metrics[0].low!, score.mae)
    XCTAssertGreaterThan(headline.metrics[0].high!, score.mae)

    // embedding: wheel and heat map hold the same counts, whose diagonal is the accuracy.
    guard case .embedding(let hue)? = result.heads[3].report.val,
      case .wheel(let wheel)? = sections["hue"]?.panels.first,
      case .confusion(let hueConfusion)? = sections["hue"]?.panels.last
    else { return XCTFail("hue: expected embedding metrics, a wheel and a confusion panel") }
    XCTAssertEqual(wheel.counts, hueConfusion.counts)
    XCTAssertEqual(wheel.classNames, HeadSpec.defaultWheel)
    let right = (0..<12).map { wheel.counts[$0][$0] }.reduce(0, +)
    XCTAssertEqual(Double(right) / Double(hue.count), hue.accuracy, accuracy: 1e-12)
    XCTAssertEqual(sections["hue"]?.charts.count, 3, "loss, accuracy, wheel distance")

    // Thumbnails: present images embedded at their size, missing and broken ones explained.
    for section in document.heads {
      for item in section.worst {
        let row = Int(item.path.dropFirst("set/img_".count).prefix(3))!
        switch item.thumbnail {
        case .jpeg(let bytes, let width, let height):
          XCTAssertTrue(row % 7 != 0 && row % 11 != 0, item.path)
          XCTAssertEqual([width, height], [40, 30])
          XCTAssertEqual(try bytes.withUnsafeBytes { try decodeImage($0).0.width }, 40)
        case .unavailable(let reason):
          XCTAssertTrue(
            row % 7 == 0 ? reason.contains("no such file") : reason.contains("unrecognised image format"), reason)
        }
      }
    }
    let withoutImages = reportDocument(result, options: options, seconds: 1, images: nil)
    XCTAssertTrue(
      withoutImages.heads.flatMap(\.worst).allSatisfy { $0.thumbnail == .unavailable("no --images DIR given") })

    // And the page renders and parses. HEADSTART_REPORT_SAMPLE=FILE keeps it, to look at a
    // page with all four kinds of head (scripts/report-screenshot.sh FILE checks it in Chromium).
    let html = renderReport(document)
    XCTAssertEqual(try parseXML(html).get().filter { $0 == "section" }.count, 4)
    if let keep = ProcessInfo.processInfo.environment["HEADSTART_REPORT_SAMPLE"] {
      try Data(html.utf8).write(to: URL(fileURLWithPath: keep))
    }
  }

  /// The built `headstart`, next to the test bundle.
  private var tool: URL {
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
      return bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("headstart")
    }
    return Bundle.main.bundleURL.appendingPathComponent("headstart")
  }

  func testTheToolWritesTheReportAndSurvivesAMissingImageFolder() throws {
    let (features, images) = try writeRun()
    for (folder, present) in [(images, true), ("/nonexistent/images", false)] {
      let report = self.folder.appendingPathComponent("report.html").path
      let process = Process()
      process.executableURL = tool
      process.arguments = [
        "fit-heads", "--features", features, "--head", "shape=softmax:shape", "--head", "flag=sigmoid:flag", "--head",
        "score=tanh:score", "--head", "hue=embedding:hue", "--epochs", "4", "--quiet", "--report", report,
        "--images", folder,
      ]
      let out = Pipe()
      process.standardOutput = out
      process.standardError = Pipe()
      try process.run()
      let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      process.waitUntilExit()
      XCTAssertEqual(process.terminationStatus, 0, printed)
      XCTAssertTrue(printed.contains("report -> \(report)"), printed)
      let html = try String(contentsOfFile: report, encoding: .utf8)
      XCTAssertEqual(try parseXML(html).get().filter { $0 == "section" }.count, 4)
      // 4 heads x 8 worst validation rows, each a thumbnail or a placeholder with its reason.
      let embedded = html.components(separatedBy: "src=\"data:image/jpeg;base64,").count - 1
      let placeholders = html.components(separatedBy: "class=\"thumb placeholder\"").count - 1
      XCTAssertEqual(embedded + placeholders, 32)
      if !present {
        XCTAssertEqual(embedded, 0)
        XCTAssertTrue(html.contains("no such file: /nonexistent/images/set/img_"))
      } else {
        XCTAssertGreaterThan(embedded, 0)
      }
    }
  }

  func testARunWithoutValidationRowsStillGetsAPage() throws {
    let (features, _) = try writeRun(split: false)
    var options = FitOptions(features: features, heads: [try HeadRequest.parse("shape=softmax:shape")])
    options.epochs = 3
    options.valSplit = 0
    options.recordEpochMetrics = true
    let result = try runFit(options)
    XCTAssertNil(result.valOutputs)
    XCTAssertTrue(result.epochMetrics.isEmpty)
    let document = reportDocument(result, options: options, seconds: 0.5, images: nil)
    XCTAssertEqual(document.headlines.count, 0)
    XCTAssertEqual(document.heads[0].charts.count, 1, "train loss only")
    XCTAssertEqual(document.heads[0].charts[0].series.map(\.name), ["train"])
    XCTAssertTrue(document.heads[0].panels.isEmpty)
    XCTAssertEqual(try parseXML(renderReport(document)).get().filter { $0 == "section" }.count, 1)
  }

  func testIntervals() {
    // Fisher z for r = 0.5 of 28 pairs, Hanley-McNeil for AUC 0.8 with 30/50, and the normal
    // interval of a mean; the numbers from the same formulas in Python's math module.
    let r = pearsonInterval(r: 0.5, count: 28)!
    XCTAssertEqual(r.low, 0.15602836252908595, accuracy: 1e-12)
    XCTAssertEqual(r.high, 0.7358184794439376, accuracy: 1e-12)
    let auc = aucInterval(auc: 0.8, positives: 30, negatives: 50)!
    XCTAssertEqual(auc.low, 0.6936336161740596, accuracy: 1e-12)
    XCTAssertEqual(auc.high, 0.9063663838259405, accuracy: 1e-12)
    let mean = meanInterval([1, 2, 3, 4, 10])
    XCTAssertEqual(mean.mean, 4)
    XCTAssertEqual(mean.low!, 0.9010248384771922, accuracy: 1e-12)
    XCTAssertEqual(mean.high!, 7.098975161522808, accuracy: 1e-12)
    XCTAssertNil(pearsonInterval(r: 0.5, count: 3))
    XCTAssertNil(aucInterval(auc: 0.5, positives: 0, negatives: 4))
    XCTAssertNil(meanInterval([2]).low)
  }
}
