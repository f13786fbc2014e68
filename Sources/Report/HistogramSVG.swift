// Sigmoid scores per true class on a log count axis, with the decision threshold drawn.

import Foundation

/// Counts of `scores` in `bins` equal bins over [0, 1]; a score of exactly 1 falls in the last
/// bin, scores outside [0, 1] are clamped into the end bins.
func histogramCounts(_ scores: [Double], bins: Int) -> [Int] {
  var counts = [Int](repeating: 0, count: bins)
  for score in scores where score.isFinite {
    counts[min(bins - 1, max(0, Int(score * Double(bins))))] += 1
  }
  return counts
}

/// The histogram as an `<svg>`: in each bin one bar per class side by side, every bar a
/// `<rect class="bar">` with `data-class`, `data-bin` and `data-count`. The y axis is
/// log10(1 + count), so single rows stay visible next to hundreds.
func histogramSVG(_ plot: ScoreHistogram) -> String {
  let bins = max(1, plot.bins)
  let counts = plot.scores.map { histogramCounts($0, bins: bins) }
  let maxCount = counts.flatMap { $0 }.max() ?? 0
  // Ticks at 0, 1, 10, 100, ... up to the first power of ten at or above the largest count.
  var tickCounts = [0, 1]
  while tickCounts.last! < maxCount { tickCounts.append(tickCounts.last! * 10) }
  let top = log10(1 + Double(tickCounts.last!))
  var frame = ChartFrame(width: 400, height: 240, xRange: 0...1, yRange: 0...top)
  frame.top = 30
  var svg = frame.open(label: plot.title)
  let xTicks = niceTicks(low: 0, high: 1, count: 6)
  svg += frame.axes(
    xTicks: labelled(xTicks.ticks, decimals: xTicks.decimals),
    yTicks: tickCounts.map { (log10(1 + Double($0)), "\($0)") }, xTitle: "score", yTitle: "rows (log scale)")
  let binWidth = (frame.plotRight - frame.plotLeft) / Double(bins)
  let classes = max(1, counts.count)
  let barWidth = (binWidth - 2) / Double(classes)
  for (c, classCounts) in counts.enumerated() {
    let color = Palette.classes[c % Palette.classes.count]
    svg += "<g class=\"class\" data-class=\"\(c)\" fill=\"\(color)\">"
    for (b, count) in classCounts.enumerated() {
      let y = frame.y(log10(1 + Double(count)))
      let x = frame.plotLeft + Double(b) * binWidth + 1 + Double(c) * barWidth
      svg += "<rect class=\"bar\" data-class=\"\(c)\" data-bin=\"\(b)\" data-count=\"\(count)\" "
      svg += "x=\"\(coordinate(x))\" y=\"\(coordinate(y))\" width=\"\(coordinate(barWidth))\" "
      svg += "height=\"\(coordinate(frame.plotBottom - y))\">"
      let low = Double(b) / Double(bins)
      svg += "<title>\(escape(plot.classNames[c])), score \(fixed(low, 2))-\(fixed(low + 1 / Double(bins), 2)): "
      svg += "\(count)</title></rect>"
    }
    svg += "</g>"
  }
  let x = coordinate(frame.x(min(1, max(0, plot.threshold))))
  svg += "<line class=\"threshold\" data-threshold=\"\(plot.threshold)\" x1=\"\(x)\" x2=\"\(x)\" "
  svg += "y1=\"\(coordinate(frame.plotTop))\" y2=\"\(coordinate(frame.plotBottom))\" stroke=\"\(Palette.ink)\" "
  svg += "stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>"
  let onRight = plot.threshold < 0.5
  svg += "<text x=\"\(coordinate(frame.x(min(1, max(0, plot.threshold))) + (onRight ? 4 : -4)))\" "
  svg += "y=\"\(coordinate(frame.plotTop + 10))\" text-anchor=\"\(onRight ? "start" : "end")\" font-size=\"10\" "
  svg += "fill=\"\(Palette.ink)\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">"
  svg += "threshold \(fixed(plot.threshold, 3))</text>"
  let names = plot.classNames.enumerated().map { (i, name) in
    ("true \(name) (\(plot.scores[i].count))", Palette.classes[i % Palette.classes.count])
  }
  svg += legend(names, right: frame.plotRight, top: 6)
  return svg + "</svg>"
}
