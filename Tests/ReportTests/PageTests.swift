// The whole page: well-formed (it parses as XML), self-contained (no reference leaves the file),
// with the header's facts and headline numbers and one section per head.

import Foundation
import ImageIO
import XCTest

@testable import Report

final class PageTests: XCTestCase {
  static func sampleDocument() -> ReportDocument {
    let loss = LineChart(
      title: "Loss", yLabel: "cross-entropy",
      series: [
        Series(name: "train", values: [1.1, 0.8, 0.6], role: .train),
        Series(name: "validation", values: [1.2, 0.9, 0.95], role: .validation),
      ], bestEpoch: 2)
    let accuracy = LineChart(
      title: "Validation accuracy", yLabel: "accuracy",
      series: [
        Series(
          name: "accuracy", values: [0.5, 0.7, 0.65], role: .metric, bandLow: [0.4, 0.6, 0.55],
          bandHigh: [0.6, 0.8, 0.75])
      ], bestEpoch: 2, yRange: 0...1)
    let pixel = RGBPixelJPEG.bytes
    return ReportDocument(
      title: "fit-heads report: <sample> & co", facts: [Fact("features", "a.h5"), Fact("best epoch", "2")],
      warning: "random weights",
      headlines: [
        HeadlineRow(
          head: "harmony", kind: "softmax", split: "val", count: 40,
          metrics: [MetricValue("accuracy", 0.675, low: 0.52, high: 0.80), MetricValue("macro F1", 0.61)])
      ],
      heads: [
        HeadSection(
          name: "harmony", kind: "softmax", column: "harmony", charts: [loss, accuracy],
          panels: [.confusion(ConfusionPlot(title: "Confusion", classNames: ["a", "b"], counts: [[3, 1], [2, 4]]))],
          worst: [
            WorstCase(
              path: "x/1.jpg", truth: "a", predicted: "b", loss: 2.3, lossName: "loss",
              thumbnail: .jpeg(pixel, width: 1, height: 1)),
            WorstCase(
              path: "x/2.jpg", truth: "b", predicted: "a", loss: 1.1, lossName: "loss",
              thumbnail: .unavailable("no such file: /img/x/2.jpg")),
          ], worstRanking: "cross-entropy"),
        HeadSection(
          name: "flag", kind: "sigmoid", column: "flag", charts: [loss],
          panels: [
            .histogram(
              ScoreHistogram(title: "Scores", classNames: ["no", "yes"], scores: [[0.1, 0.2], [0.9]], threshold: 0.4))
          ]),
        HeadSection(
          name: "score", kind: "tanh", column: "score", charts: [loss],
          panels: [.scatter(ScatterPlot(title: "Scatter", truth: [1, 2], predicted: [1.5, 2.5], low: 0, high: 3))]),
        HeadSection(
          name: "hue", kind: "embedding", column: "primary", charts: [loss],
          panels: [
            .wheel(
              WheelPlot(title: "Wheel", classNames: ["A", "B", "C"], counts: [[2, 1, 0], [0, 3, 0], [1, 0, 1]]))
          ]),
      ], notes: ["intervals: Wilson"])
  }

  func testPageIsWellFormedSelfContainedAndComplete() throws {
    let html = renderReport(Self.sampleDocument())
    let names = try parseXML(html).get()
    XCTAssertEqual(names.filter { $0 == "section" }.count, 4)
    XCTAssertEqual(names.filter { $0 == "svg" }.count, 9, "5 charts + 4 panels")
    XCTAssertEqual(names.filter { $0 == "img" }.count, 1)
    // Nothing is fetched from elsewhere: no URLs, no external stylesheets, scripts or fonts.
    let withoutImages = html.replacingOccurrences(
      of: "data:image/jpeg;base64,[A-Za-z0-9+/=]*", with: "", options: .regularExpression)
    for forbidden in ["http:", "https:", "//", "<script", "<link", "@import", "url(", "@font-face"] {
      XCTAssertFalse(withoutImages.contains(forbidden), forbidden)
    }
    let sources = html.components(separatedBy: "src=\"").dropFirst().map { $0.prefix(11) }
    XCTAssertEqual(sources, ["data:image/"])
    XCTAssertTrue(html.contains("<title>fit-heads report: &lt;sample&gt; &amp; co</title>"))
    XCTAssertTrue(html.contains("<p class=\"warning\">random weights</p>"))
    XCTAssertTrue(html.contains("accuracy <b>0.675</b> <span class=\"interval\">[0.520, 0.800]</span>"))
    XCTAssertTrue(html.contains("no such file: /img/x/2.jpg"))
    for id in ["head-harmony", "head-flag", "head-score", "head-hue"] {
      XCTAssertTrue(html.contains("id=\"\(id)\""), id)
      XCTAssertTrue(html.contains("href=\"#\(id)\""), id)
    }
  }

  func testTheSampleRendersTheSameTwice() {
    XCTAssertEqual(renderReport(Self.sampleDocument()), renderReport(Self.sampleDocument()))
  }
}

/// A 1x1 JPEG made by the encoder under test elsewhere; here only its embedding matters.
enum RGBPixelJPEG {
  static let bytes: [UInt8] = {
    (try? encodeJPEG(RGBImage(width: 1, height: 1, pixels: [200, 30, 30]))) ?? []
  }()
}
