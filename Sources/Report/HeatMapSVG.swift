// A confusion matrix as a heat map: rows are the true class, columns the predicted one; each
// cell's colour is its count over the largest count, and the count is written in it.

/// The heat map as an `<svg>`; every cell is a `<rect class="cell">` with `data-true`,
/// `data-predicted` and `data-count`.
func heatMapSVG(_ plot: ConfusionPlot) -> String {
  let classes = plot.classNames.count
  let maxCount = plot.counts.flatMap { $0 }.max() ?? 0
  let longest = plot.classNames.map(\.count).max() ?? 1
  let cell = min(40, max(14, 330 / Double(max(1, classes))))
  let labelWidth = min(110, 8 + 6.2 * Double(longest))
  let left = labelWidth + 24
  let top = 18 + labelWidth * 0.72
  // The last column's label runs up and to the right at 45 degrees.
  let width = left + cell * Double(classes) + max(12, labelWidth * 0.72 - cell / 2)
  let height = top + cell * Double(classes) + 12
  // Never drawn larger than its natural size: a 3-class matrix would otherwise fill the card
  // with giant digits.
  var svg = "<svg viewBox=\"0 0 \(coordinate(width)) \(coordinate(height))\" role=\"img\" "
  svg += "style=\"max-width:\(Int((width * 1.15).rounded()))px\" "
  svg += "aria-label=\"\(escape(plot.title))\" class=\"heatmap\"><g font-size=\"11\">"
  // A grey backing shows through the 1-unit gaps between cells as grid lines.
  let side = coordinate(cell * Double(classes) + 1)
  svg += "<rect x=\"\(coordinate(left - 1))\" y=\"\(coordinate(top - 1))\" width=\"\(side)\" height=\"\(side)\" "
  svg += "fill=\"\(Palette.grid)\"/>"
  for (row, counts) in plot.counts.enumerated() {
    let total = counts.reduce(0, +)
    for (column, count) in counts.enumerated() {
      let color = heatColor(maxCount > 0 ? Double(count) / Double(maxCount) : 0)
      let x = left + Double(column) * cell
      let y = top + Double(row) * cell
      svg += "<rect class=\"cell\" data-true=\"\(row)\" data-predicted=\"\(column)\" data-count=\"\(count)\" "
      svg += "x=\"\(coordinate(x))\" y=\"\(coordinate(y))\" width=\"\(coordinate(cell - 1))\" "
      svg +=
        "height=\"\(coordinate(cell - 1))\" fill=\"\(color.hex)\">"
      svg += "<title>true \(escape(plot.classNames[row])), predicted \(escape(plot.classNames[column])): \(count)"
      svg += total > 0 ? " (\(fixed(100 * Double(count) / Double(total), 0))% of the row)" : ""
      svg += "</title></rect>"
      if cell >= 16 && count > 0 {
        svg += "<text x=\"\(coordinate(x + (cell - 1) / 2))\" y=\"\(coordinate(y + (cell - 1) / 2))\" "
        // The diagonal (right answers) in bold.
        let weight = row == column ? " font-weight=\"700\"" : ""
        svg += "dy=\"0.35em\" text-anchor=\"middle\" font-size=\"\(cell >= 26 ? 11 : 9)\"\(weight) "
        svg += "fill=\"\(color.lightness < 0.55 ? "#ffffff" : Palette.ink)\">\(count)</text>"
      }
    }
  }
  for (i, name) in plot.classNames.enumerated() {
    let middle = Double(i) * cell + (cell - 1) / 2
    svg += "<text x=\"\(coordinate(left - 6))\" y=\"\(coordinate(top + middle))\" dy=\"0.35em\" "
    svg += "text-anchor=\"end\" fill=\"\(Palette.ink)\">\(escape(name))</text>"
    let x = coordinate(left + middle)
    svg += "<text transform=\"translate(\(x) \(coordinate(top - 6))) rotate(-45)\" "
    svg += "fill=\"\(Palette.ink)\">\(escape(name))</text>"
  }
  let middleY = coordinate(top + cell * Double(classes) / 2)
  svg += "<text transform=\"translate(12 \(middleY)) rotate(-90)\" text-anchor=\"middle\" "
  svg += "fill=\"\(Palette.muted)\">true</text>"
  svg += "<text x=\"\(coordinate(left - 6))\" y=\"12\" text-anchor=\"end\" fill=\"\(Palette.muted)\">"
  svg += "predicted \u{2192}</text>"
  return svg + "</g></svg>"
}
