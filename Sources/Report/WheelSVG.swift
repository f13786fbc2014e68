// An embedding head's wheel: the classes as coloured sectors of a ring (class 0 at the top,
// clockwise), a dot inside each sector for the rows predicted right (area by count), and a chord
// from the true class to the predicted one for every kind of mistake (width by count), so
// near-misses hug the ring and opposite-hue mistakes cross the middle.

import Foundation

/// The wheel as an `<svg>`: sectors `<path class="sector">` (data-class), dots
/// `<circle class="correct">` (data-class, data-count) and chords `<path class="chord">`
/// (data-true, data-predicted, data-count).
func wheelSVG(_ plot: WheelPlot) -> String {
  let classes = plot.classNames.count
  // Wider than tall: the longest default label ("Blue-Magenta") sits beside the ring, the
  // labels above and below need only a line.
  let (width, height) = (470.0, 350.0)
  let (centreX, centreY) = (width / 2, height / 2)
  let outer = 148.0
  let inner = 122.0
  func angle(_ i: Int) -> Double { -Double.pi / 2 + 2 * Double.pi * Double(i) / Double(max(1, classes)) }
  func point(_ i: Int, _ radius: Double, offset: Double = 0) -> (x: Double, y: Double) {
    (centreX + radius * cos(angle(i) + offset), centreY + radius * sin(angle(i) + offset))
  }
  func xy(_ p: (x: Double, y: Double)) -> String { "\(coordinate(p.x)) \(coordinate(p.y))" }
  var svg = "<svg viewBox=\"0 0 \(coordinate(width)) \(coordinate(height))\" role=\"img\" "
  svg += "aria-label=\"\(escape(plot.title))\" class=\"wheel\">"
  let half = Double.pi / Double(max(1, classes)) - 0.012
  let totals = plot.counts.map { $0.reduce(0, +) }
  for i in 0..<classes {
    let color = wheelColor(i, of: classes).hex
    let a = point(i, outer, offset: -half)
    let b = point(i, outer, offset: half)
    let c = point(i, inner, offset: half)
    let d = point(i, inner, offset: -half)
    let large = 2 * half > Double.pi ? 1 : 0
    svg += "<path class=\"sector\" data-class=\"\(i)\" fill=\"\(color)\" d=\"M\(xy(a))"
    svg += "A\(coordinate(outer)) \(coordinate(outer)) 0 \(large) 1 \(xy(b))L\(xy(c))"
    svg += "A\(coordinate(inner)) \(coordinate(inner)) 0 \(large) 0 \(xy(d))Z\"><title>\(escape(plot.classNames[i])): "
    svg += "\(totals.indices.contains(i) ? totals[i] : 0) rows</title></path>"
    let label = point(i, outer + 10)
    let cosine = cos(angle(i))
    let anchor = abs(cosine) < 0.2 ? "middle" : cosine > 0 ? "start" : "end"
    let dy = sin(angle(i)) > 0.8 ? "0.9em" : sin(angle(i)) < -0.8 ? "-0.2em" : "0.35em"
    svg += "<text x=\"\(coordinate(label.x))\" y=\"\(coordinate(label.y))\" dy=\"\(dy)\" text-anchor=\"\(anchor)\" "
    svg += "font-size=\"11\" fill=\"\(Palette.ink)\">\(escape(plot.classNames[i]))</text>"
  }
  let mistakes = plot.counts.enumerated().flatMap { (t, row) in
    row.enumerated().filter { $0.offset != t && $0.element > 0 }.map { (t, $0.offset, $0.element) }
  }
  let maxMistake = mistakes.map(\.2).max() ?? 1
  svg += "<g class=\"chords\" fill=\"none\" stroke-linecap=\"round\">"
  for (t, p, count) in mistakes.sorted(by: { $0.2 < $1.2 }) {
    let start = point(t, inner - 6)
    let end = point(p, inner - 6)
    // Pull the control point towards the centre, more for classes further apart on the wheel.
    let steps = min(abs(t - p), classes - abs(t - p))
    let pull = min(1, 0.35 + Double(steps) / Double(max(1, classes)))
    let control = (
      x: centreX + ((start.x + end.x) / 2 - centreX) * (1 - pull),
      y: centreY + ((start.y + end.y) / 2 - centreY) * (1 - pull)
    )
    let width = 1.2 + 4.8 * (Double(count) / Double(maxMistake)).squareRoot()
    svg += "<path class=\"chord\" data-true=\"\(t)\" data-predicted=\"\(p)\" data-count=\"\(count)\" "
    svg += "d=\"M\(xy(start))Q\(xy(control)) \(xy(end))\" stroke=\"\(wheelColor(t, of: classes).hex)\" "
    svg += "stroke-opacity=\"0.6\" stroke-width=\"\(coordinate(width))\"><title>true \(escape(plot.classNames[t])) "
    svg += "\u{2192} predicted \(escape(plot.classNames[p])): \(count)</title></path>"
    svg += "<circle cx=\"\(coordinate(end.x))\" cy=\"\(coordinate(end.y))\" r=\"2.2\" "
    svg += "fill=\"\(wheelColor(p, of: classes).hex)\" stroke=\"#ffffff\" stroke-width=\"0.8\"/>"
  }
  svg += "</g>"
  let correct = (0..<classes).map { $0 < plot.counts.count && $0 < plot.counts[$0].count ? plot.counts[$0][$0] : 0 }
  let maxCorrect = max(1, correct.max() ?? 1)
  svg += "<g class=\"dots\" stroke=\"#ffffff\" stroke-width=\"1.2\">"
  for (i, count) in correct.enumerated() where count > 0 {
    let p = point(i, inner - 22)
    let radius = 2.5 + 8.5 * (Double(count) / Double(maxCorrect)).squareRoot()
    svg += "<circle class=\"correct\" data-class=\"\(i)\" data-count=\"\(count)\" cx=\"\(coordinate(p.x))\" "
    svg += "cy=\"\(coordinate(p.y))\" r=\"\(coordinate(radius))\" fill=\"\(wheelColor(i, of: classes).hex)\">"
    svg += "<title>\(escape(plot.classNames[i])): \(count) of \(totals[i]) right</title></circle>"
  }
  svg += "</g>"
  let rows = totals.reduce(0, +)
  let right = correct.reduce(0, +)
  var distance = 0
  for (t, p, count) in mistakes { distance += count * min(abs(t - p), classes - abs(t - p)) }
  // A white halo keeps the numbers readable over chords.
  svg += "<g text-anchor=\"middle\" fill=\"\(Palette.ink)\" stroke=\"#ffffff\" stroke-width=\"3\" "
  svg += "paint-order=\"stroke\" stroke-linejoin=\"round\">"
  svg += "<text x=\"\(coordinate(centreX))\" y=\"\(coordinate(centreY - 4))\" font-size=\"20\" font-weight=\"600\">"
  svg += "\(rows > 0 ? fixed(Double(right) / Double(rows), 2) : "n/a")</text>"
  svg += "<text x=\"\(coordinate(centreX))\" y=\"\(coordinate(centreY + 13))\" font-size=\"10\" "
  svg += "fill=\"\(Palette.muted)\">accuracy</text>"
  svg += "<text x=\"\(coordinate(centreX))\" y=\"\(coordinate(centreY + 27))\" font-size=\"10\" "
  svg += "fill=\"\(Palette.muted)\">\(rows > 0 ? fixed(Double(distance) / Double(rows), 2) : "n/a") steps off</text>"
  return svg + "</g></svg>"
}
