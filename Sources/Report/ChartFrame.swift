// The axes shared by the line charts, the histogram and the scatter plot: a plot area inside
// margins, linear scales from data to SVG units, grid lines, ticks and axis titles.

/// A rectangular plot with linear x and y scales. SVG y grows downwards; `y(_:)` flips it.
struct ChartFrame {
  var width: Double
  var height: Double
  var left = 52.0
  var right = 14.0
  var top = 14.0
  var bottom = 40.0
  var xRange: ClosedRange<Double>
  var yRange: ClosedRange<Double>

  var plotLeft: Double { left }
  var plotRight: Double { width - right }
  var plotTop: Double { top }
  var plotBottom: Double { height - bottom }

  func x(_ value: Double) -> Double {
    let span = xRange.upperBound - xRange.lowerBound
    return plotLeft + (span > 0 ? (value - xRange.lowerBound) / span : 0.5) * (plotRight - plotLeft)
  }

  func y(_ value: Double) -> Double {
    let span = yRange.upperBound - yRange.lowerBound
    return plotBottom - (span > 0 ? (value - yRange.lowerBound) / span : 0.5) * (plotBottom - plotTop)
  }

  /// `<svg>` opening tag; the drawing scales with the page's width.
  func open(label: String) -> String {
    "<svg viewBox=\"0 0 \(coordinate(width)) \(coordinate(height))\" role=\"img\" aria-label=\"\(escape(label))\">"
  }

  /// Horizontal grid lines with labelled y ticks, x ticks, the frame's bottom and left edges and
  /// the axis titles. `xTicks` are (position, label) pairs.
  func axes(
    xTicks: [(Double, String)], yTicks: [(Double, String)], xTitle: String, yTitle: String, yGrid: Bool = true
  ) -> String {
    var svg = "<g class=\"axes\" font-size=\"11\" fill=\"\(Palette.muted)\">"
    for (value, label) in yTicks {
      let py = coordinate(y(value))
      if yGrid {
        svg += "<line x1=\"\(coordinate(plotLeft))\" x2=\"\(coordinate(plotRight))\" y1=\"\(py)\" y2=\"\(py)\" "
        svg += "stroke=\"\(Palette.grid)\"/>"
      }
      svg += "<text x=\"\(coordinate(plotLeft - 6))\" y=\"\(py)\" text-anchor=\"end\" dy=\"0.32em\">"
      svg += "\(escape(label))</text>"
    }
    for (value, label) in xTicks {
      let px = coordinate(x(value))
      svg += "<line x1=\"\(px)\" x2=\"\(px)\" y1=\"\(coordinate(plotBottom))\" y2=\"\(coordinate(plotBottom + 4))\" "
      svg += "stroke=\"\(Palette.axis)\"/>"
      svg += "<text x=\"\(px)\" y=\"\(coordinate(plotBottom + 16))\" text-anchor=\"middle\">\(escape(label))</text>"
    }
    svg += "<path d=\"M\(coordinate(plotLeft)) \(coordinate(plotTop))V\(coordinate(plotBottom))"
    svg += "H\(coordinate(plotRight))\" fill=\"none\" stroke=\"\(Palette.axis)\"/>"
    svg += "<text x=\"\(coordinate((plotLeft + plotRight) / 2))\" y=\"\(coordinate(height - 6))\" "
    svg += "text-anchor=\"middle\" fill=\"\(Palette.ink)\">\(escape(xTitle))</text>"
    let middle = coordinate((plotTop + plotBottom) / 2)
    svg += "<text transform=\"translate(13 \(middle)) rotate(-90)\" text-anchor=\"middle\" "
    svg += "fill=\"\(Palette.ink)\">\(escape(yTitle))</text>"
    return svg + "</g>"
  }
}

/// Tick labels for `ticks` with `decimals` decimals.
func labelled(_ ticks: [Double], decimals: Int) -> [(Double, String)] {
  ticks.map { ($0, fixed($0, decimals)) }
}
