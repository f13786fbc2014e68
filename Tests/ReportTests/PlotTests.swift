// Each plot checked against the numbers it draws: heat-map cells against the confusion matrix,
// histogram bars against a naive count, one scatter point per row on the right spot, wheel
// chords and dots against the counts, line charts against their values.

import Foundation
import XCTest

@testable import Report

final class PlotTests: XCTestCase {
  func testHeatMapCellsCarryTheConfusionCountsAndTheirColours() {
    let counts = [[7, 1, 0], [2, 5, 3], [0, 0, 12]]
    let svg = heatMapSVG(ConfusionPlot(title: "c", classNames: ["a", "b & c", "d"], counts: counts))
    let cells = elements(svg, tag: "rect", className: "cell")
    XCTAssertEqual(cells.count, 9)
    for cell in cells {
      let (row, column, count) = (int(cell, "data-true"), int(cell, "data-predicted"), int(cell, "data-count"))
      XCTAssertEqual(count, counts[row][column], "cell \(row),\(column)")
      XCTAssertEqual(cell["fill"], heatColor(Double(counts[row][column]) / 12).hex, "cell \(row),\(column)")
    }
    // The scale's ends, and darker for more.
    XCTAssertEqual(heatColor(0).hex, "#f8fafc")
    XCTAssertEqual(heatColor(1).hex, "#1e3a8a")
    XCTAssertGreaterThan(heatColor(0.2).lightness, heatColor(0.6).lightness)
    XCTAssertTrue(svg.contains(">b &amp; c</text>"), "class names are escaped and shown")
    // Non-zero counts are written in their cells, zeros are not.
    let numbers = svg.components(separatedBy: "text-anchor=\"middle\" font-size=").count - 1
    XCTAssertEqual(numbers, counts.flatMap { $0 }.filter { $0 > 0 }.count)
  }

  func testHistogramBarsMatchANaiveCountOnALogAxis() {
    // Deterministic scores: a fixed linear-congruential walk, plus the edges 0 and 1.
    var state: UInt64 = 12345
    func next() -> Double {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Double(state >> 11) / Double(1 << 53)
    }
    let negatives = (0..<300).map { _ in pow(next(), 2) } + [0]
    let positives = (0..<40).map { _ in 1 - pow(next(), 3) } + [1]
    let plot = ScoreHistogram(
      title: "h", classNames: ["no", "yes"], scores: [negatives, positives], threshold: 0.35, bins: 20)
    let svg = histogramSVG(plot)
    let bars = elements(svg, tag: "rect", className: "bar")
    XCTAssertEqual(bars.count, 40)
    var naive = [[Int]](repeating: [Int](repeating: 0, count: 20), count: 2)
    for (c, scores) in [negatives, positives].enumerated() {
      for score in scores {
        var bin = 0
        while bin < 19 && score >= Double(bin + 1) / 20 { bin += 1 }
        naive[c][bin] += 1
      }
    }
    var heights: [(count: Int, height: Double)] = []
    for bar in bars {
      let (c, b, count) = (int(bar, "data-class"), int(bar, "data-bin"), int(bar, "data-count"))
      XCTAssertEqual(count, naive[c][b], "class \(c) bin \(b)")
      heights.append((count, double(bar, "height")))
    }
    XCTAssertEqual(bars.filter { $0["data-class"] == "0" }.map { int($0, "data-count") }.reduce(0, +), 301)
    XCTAssertEqual(bars.filter { $0["data-class"] == "1" }.map { int($0, "data-count") }.reduce(0, +), 41)
    // Log scale: height is proportional to log10(1 + count) (to the 0.01 rounding of coordinates).
    let unit = heights.filter { $0.count > 0 }.map { $0.height / log10(1 + Double($0.count)) }
    XCTAssertLessThan((unit.max()! - unit.min()!) / unit.max()!, 0.01, "heights follow log10(1 + count)")
    XCTAssertEqual(heights.filter { $0.count == 0 }.map(\.height).max() ?? 0, 0)
    // The threshold line sits at 0.35 of the x axis (frame 52 ... 386).
    let line = elements(svg, tag: "line", className: "threshold")
    XCTAssertEqual(line.count, 1)
    XCTAssertEqual(double(line[0], "x1"), 52 + 0.35 * 334, accuracy: 0.01)
  }

  func testScatterHasOnePointPerRowOnTheRightSpot() {
    let truth = (0..<37).map { 1 + Double($0) / 4 }
    let predicted = truth.enumerated().map { $0.offset % 5 == 0 ? $0.element : 10 - $0.element / 2 }
    let svg = scatterSVG(ScatterPlot(title: "s", truth: truth, predicted: predicted, low: 1, high: 10))
    let points = elements(svg, tag: "circle", className: "point")
    XCTAssertEqual(points.count, 37)
    XCTAssertEqual(points.map { double($0, "data-true") }, truth)
    XCTAssertEqual(points.map { double($0, "data-predicted") }, predicted)
    let diagonal = elements(svg, tag: "line", className: "diagonal")[0]
    let (x1, y1, x2, y2) = (
      double(diagonal, "x1"), double(diagonal, "y1"), double(diagonal, "x2"), double(diagonal, "y2")
    )
    // Points with predicted == true lie on the drawn y = x line; the others do not.
    var onLine = 0
    for (i, point) in points.enumerated() {
      let (x, y) = (double(point, "cx"), double(point, "cy"))
      let distance = abs((y2 - y1) * x - (x2 - x1) * y + x2 * y1 - y2 * x1) / hypot(x2 - x1, y2 - y1)
      if truth[i] == predicted[i] {
        XCTAssertLessThan(distance, 0.02, "row \(i)")
        onLine += 1
      } else {
        XCTAssertGreaterThan(distance, 0.5, "row \(i)")
      }
    }
    XCTAssertEqual(onLine, 8)
    // x grows with the truth.
    XCTAssertEqual(points.map { double($0, "cx") }, points.map { double($0, "cx") }.sorted())
  }

  func testWheelDrawsOneChordPerKindOfMistakeAndOneDotPerClassPredictedRight() {
    let names =
      ["Magenta", "Red-Magenta", "Red", "Orange", "Yellow", "Yellow-Green", "Green", "Green-Cyan", "Cyan"]
      + ["Blue-Cyan", "Blue", "Blue-Magenta"]
    var counts = [[Int]](repeating: [Int](repeating: 0, count: 12), count: 12)
    for c in 0..<12 { counts[c][c] = c % 4 == 3 ? 0 : 3 + c }
    counts[2][3] = 4
    counts[2][8] = 1
    counts[11][0] = 2
    counts[5][5] = 0
    let svg = wheelSVG(WheelPlot(title: "w", classNames: names, counts: counts))
    let sectors = elements(svg, tag: "path", className: "sector")
    XCTAssertEqual(sectors.count, 12)
    // Red (index 2) is drawn red, Green (6) green, Blue (10) blue: the hue of the class.
    func channels(_ hex: String) -> [Int] {
      let digits = Array(hex.dropFirst())
      return stride(from: 0, to: 6, by: 2).map { Int(String(digits[$0...$0 + 1]), radix: 16)! }
    }
    for (index, channel) in [(2, 0), (6, 1), (10, 2)] {
      let rgb = channels(sectors[index]["fill"]!)
      XCTAssertEqual(rgb.indices.max { rgb[$0] < rgb[$1] }, channel, "\(names[index]) is \(rgb)")
    }
    let chords = elements(svg, tag: "path", className: "chord")
    XCTAssertEqual(
      Set(chords.map { "\(int($0, "data-true"))>\(int($0, "data-predicted")):\(int($0, "data-count"))" }),
      ["2>3:4", "2>8:1", "11>0:2"])
    // Thicker for more.
    let widths = Dictionary(uniqueKeysWithValues: chords.map { (int($0, "data-count"), double($0, "stroke-width")) })
    XCTAssertGreaterThan(widths[4]!, widths[2]!)
    XCTAssertGreaterThan(widths[2]!, widths[1]!)
    let dots = elements(svg, tag: "circle", className: "correct")
    let expected = (0..<12).filter { counts[$0][$0] > 0 }
    XCTAssertEqual(dots.map { int($0, "data-class") }, expected)
    XCTAssertEqual(dots.map { int($0, "data-count") }, expected.map { counts[$0][$0] })
    let right = expected.map { counts[$0][$0] }.reduce(0, +)
    let total = counts.flatMap { $0 }.reduce(0, +)
    XCTAssertTrue(
      svg.contains(">\(String(format: "%.2f", Double(right) / Double(total)))</text>"), "accuracy in the middle")
    // Mean wheel distance: 4 x 1 step + 1 x 6 steps + 2 x 1 step.
    XCTAssertTrue(svg.contains(">\(String(format: "%.2f", 12 / Double(total))) steps off</text>"))
  }

  func testLineChartPlotsEveryEpochAndMarksTheBest() {
    let train = [1.2, 0.9, 0.7, 0.6, 0.55]
    let val = [1.3, 1.0, 0.85, .nan, 0.95]
    let chart = LineChart(
      title: "Loss", yLabel: "loss",
      series: [
        Series(name: "train", values: train, role: .train), Series(name: "validation", values: val, role: .validation),
      ],
      bestEpoch: 3)
    let svg = lineChartSVG(chart)
    let paths = svg.components(separatedBy: "<g class=\"series\"").dropFirst().map { String($0) }
    XCTAssertEqual(paths.count, 2)
    // One dot per finite value; the NaN starts a new sub-path (a gap).
    XCTAssertEqual(paths[0].components(separatedBy: "<circle").count - 1, 5)
    XCTAssertEqual(paths[1].components(separatedBy: "<circle").count - 1, 4)
    let d = paths[1].components(separatedBy: "<path d=\"")[1].prefix { $0 != "\"" }
    XCTAssertEqual(d.filter { $0 == "M" }.count, 2, "gap at the NaN: \(d)")
    XCTAssertEqual(d.filter { $0 == "L" }.count, 2)
    // The best-epoch line sits at epoch 3 of 1...5 on the plot's x axis (52 ... 386).
    let best = elements(svg, tag: "line", className: "best")
    XCTAssertEqual(double(best[0], "x1"), 52 + 2.0 / 4 * 334, accuracy: 0.01)
    XCTAssertTrue(svg.contains("best epoch 3"))
  }

  func testNiceTicks() {
    XCTAssertEqual(niceTicks(low: 0, high: 1, count: 6).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1])
    XCTAssertEqual(niceTicks(low: 0, high: 1, count: 6).decimals, 1)
    XCTAssertEqual(niceTicks(low: 1, high: 20, count: 8).ticks, Array(stride(from: 2.0, through: 20, by: 2)))
    XCTAssertEqual(niceRange(low: 0.37, high: 2.9, count: 5), 0...3)
    // A single value is widened by half a unit each way, then out to whole 0.2 steps.
    let flat = niceRange(low: 1, high: 1)
    XCTAssertEqual(flat.lowerBound, 0.4, accuracy: 1e-12)
    XCTAssertEqual(flat.upperBound, 1.6, accuracy: 1e-12)
  }
}
