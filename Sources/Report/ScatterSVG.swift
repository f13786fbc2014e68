// Regression: predicted against true values, in the label's units, with the y = x line.

/// The scatter as an `<svg>`: one `<circle class="point">` per row (with `data-true` and
/// `data-predicted`), both axes over the same range so the diagonal is y = x.
func scatterSVG(_ plot: ScatterPlot) -> String {
  let values = (plot.truth + plot.predicted + [plot.low, plot.high]).filter(\.isFinite)
  let range = niceRange(low: values.min() ?? 0, high: values.max() ?? 1, count: 6)
  var frame = ChartFrame(width: 340, height: 320, xRange: range, yRange: range)
  frame.right = 18
  let ticks = niceTicks(low: range.lowerBound, high: range.upperBound, count: 6)
  var svg = frame.open(label: plot.title)
  svg += frame.axes(
    xTicks: labelled(ticks.ticks, decimals: ticks.decimals), yTicks: labelled(ticks.ticks, decimals: ticks.decimals),
    xTitle: "true", yTitle: "predicted")
  svg += "<line class=\"diagonal\" x1=\"\(coordinate(frame.x(range.lowerBound)))\" "
  svg += "y1=\"\(coordinate(frame.y(range.lowerBound)))\" x2=\"\(coordinate(frame.x(range.upperBound)))\" "
  svg += "y2=\"\(coordinate(frame.y(range.upperBound)))\" stroke=\"\(Palette.best)\" stroke-dasharray=\"5 4\"/>"
  svg += "<text x=\"\(coordinate(frame.x(range.upperBound) - 4))\" y=\"\(coordinate(frame.y(range.upperBound) + 14))\" "
  svg += "text-anchor=\"end\" font-size=\"11\" fill=\"\(Palette.best)\">y = x</text>"
  svg += "<g class=\"points\" fill=\"\(Palette.point)\" fill-opacity=\"0.55\" stroke=\"#ffffff\" stroke-width=\"0.6\">"
  for (truth, predicted) in zip(plot.truth, plot.predicted) where truth.isFinite && predicted.isFinite {
    svg += "<circle class=\"point\" data-true=\"\(truth)\" data-predicted=\"\(predicted)\" "
    svg += "cx=\"\(coordinate(frame.x(truth)))\" cy=\"\(coordinate(frame.y(predicted)))\" r=\"3.5\">"
    svg += "<title>true \(fixed(truth, 2)), predicted \(fixed(predicted, 2))</title></circle>"
  }
  return svg + "</g></svg>"
}
