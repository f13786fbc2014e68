// Per-epoch curves (loss, accuracy, MAE, ...) with the kept epoch marked.

/// The chart as an `<svg>` element: one polyline (with dots) per series, shaded 95% bands where
/// given, a dashed vertical line at the best epoch and a legend.
func lineChartSVG(_ chart: LineChart) -> String {
  let epochs = max(1, chart.series.map(\.values.count).max() ?? 1)
  let finite = chart.series.flatMap { series in
    series.values + (series.bandLow ?? []) + (series.bandHigh ?? [])
  }.filter(\.isFinite)
  let yRange =
    chart.yRange ?? niceRange(low: finite.min() ?? 0, high: finite.max() ?? 1, count: 5)
  var frame = ChartFrame(
    width: 400, height: 240, xRange: 1...Double(max(2, epochs)), yRange: yRange)
  frame.top = 30
  let yTicks = niceTicks(low: yRange.lowerBound, high: yRange.upperBound, count: 5)
  let xTicks = niceTicks(low: 1, high: Double(max(2, epochs)), count: min(8, max(2, epochs)))
  var svg = frame.open(label: chart.title)
  svg += frame.axes(
    xTicks: labelled(xTicks.ticks.filter { $0 == $0.rounded() }, decimals: 0),
    yTicks: labelled(yTicks.ticks, decimals: yTicks.decimals), xTitle: "epoch", yTitle: chart.yLabel)
  for series in chart.series {
    guard let low = series.bandLow, let high = series.bandHigh, low.count == high.count, !low.isEmpty else {
      continue
    }
    let upper = high.enumerated().map { "\(coordinate(frame.x(Double($0 + 1)))) \(coordinate(frame.y($1)))" }
    let lower = low.enumerated().reversed().map {
      "\(coordinate(frame.x(Double($0 + 1)))) \(coordinate(frame.y($1)))"
    }
    svg += "<polygon class=\"band\" points=\"\((upper + lower).joined(separator: " "))\" "
    svg += "fill=\"\(Palette.color(series.role))\" fill-opacity=\"0.12\"/>"
  }
  if let best = chart.bestEpoch {
    let x = coordinate(frame.x(Double(best)))
    svg += "<line class=\"best\" x1=\"\(x)\" x2=\"\(x)\" y1=\"\(coordinate(frame.plotTop))\" "
    svg += "y2=\"\(coordinate(frame.plotBottom))\" stroke=\"\(Palette.best)\" stroke-dasharray=\"4 3\"/>"
    // The label sits inside the plot, beside the line, on the side with more room.
    let onRight = frame.x(Double(best)) < (frame.plotLeft + frame.plotRight) / 2
    svg += "<text x=\"\(coordinate(frame.x(Double(best)) + (onRight ? 4 : -4)))\" "
    svg += "y=\"\(coordinate(frame.plotTop + 10))\" text-anchor=\"\(onRight ? "start" : "end")\" font-size=\"10\" "
    svg +=
      "fill=\"\(Palette.best)\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">best epoch \(best)</text>"
  }
  for series in chart.series {
    let color = Palette.color(series.role)
    var path = ""
    var dots = ""
    var pen = false
    for (i, value) in series.values.enumerated() {
      guard value.isFinite else {
        pen = false
        continue
      }
      let x = coordinate(frame.x(Double(i + 1)))
      let y = coordinate(frame.y(value))
      path += (pen ? "L" : "M") + "\(x) \(y)"
      pen = true
      let isBest = chart.bestEpoch == i + 1
      dots += "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"\(isBest ? 4.5 : 2.5)\" fill=\"\(isBest ? "#ffffff" : color)\" "
      dots += "stroke=\"\(color)\" stroke-width=\"\(isBest ? 2 : 1)\"><title>\(escape(series.name)) epoch \(i + 1): "
      dots += "\(fixed(value, 4))</title></circle>"
    }
    svg += "<g class=\"series\" data-name=\"\(escape(series.name))\" data-points=\"\(series.values.count)\">"
    svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" stroke-linejoin=\"round\"/>"
    svg += dots + "</g>"
  }
  svg += legend(chart.series.map { ($0.name, Palette.color($0.role)) }, right: frame.plotRight, top: 6)
  return svg + "</svg>"
}

/// A one-line legend ending at `right`: a swatch and a name per entry.
func legend(_ entries: [(name: String, color: String)], right: Double, top: Double) -> String {
  // About 6.6 units per character at font-size 11 in the usual sans-serif fonts.
  var x = right - entries.reduce(0) { $0 + 24 + 6.6 * Double($1.name.count) }
  var svg = "<g class=\"legend\" font-size=\"11\" fill=\"\(Palette.ink)\">"
  for entry in entries {
    svg += "<rect x=\"\(coordinate(x))\" y=\"\(coordinate(top + 3))\" width=\"12\" height=\"4\" rx=\"1\" "
    svg += "fill=\"\(entry.color)\"/>"
    svg += "<text x=\"\(coordinate(x + 16))\" y=\"\(coordinate(top + 9))\">\(escape(entry.name))</text>"
    x += 24 + 6.6 * Double(entry.name.count)
  }
  return svg + "</g>"
}
