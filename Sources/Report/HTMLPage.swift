// The report page: a header with the run's facts and headline metrics, then one section per
// head with its curves, plots and worst rows. Everything is inline (SVG, CSS, data: URI
// images): the file can be mailed or archived and opens the same anywhere, offline.

/// The whole page for `document`, as well-formed XHTML-style HTML5 (every element closed) with
/// no external references.
public func renderReport(_ document: ReportDocument) -> String {
  var html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>"
  html += "<title>\(escape(document.title))</title><style>\(styleSheet)</style></head><body>"
  html += "<header id=\"summary\" class=\"card\"><h1>\(escape(document.title))</h1>"
  if let warning = document.warning { html += "<p class=\"warning\">\(escape(warning))</p>" }
  html += "<div class=\"summary\"><dl class=\"facts\">"
  for fact in document.facts { html += "<dt>\(escape(fact.name))</dt><dd>\(escape(fact.value))</dd>" }
  html += "</dl>" + headlineTable(document.headlines) + "</div>"
  if !document.heads.isEmpty {
    html +=
      "<nav>"
      + document.heads.map { "<a href=\"#head-\(anchor($0.name))\">\(escape($0.name))</a>" }
      .joined(separator: " ") + "</nav>"
  }
  html += "</header><main>"
  for head in document.heads { html += headSection(head) }
  html += "</main>"
  if !document.notes.isEmpty {
    html += "<footer>" + document.notes.map { "<p>\(escape($0))</p>" }.joined() + "</footer>"
  }
  return html + "</body></html>\n"
}

/// An id-safe form of a head name.
func anchor(_ name: String) -> String {
  String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
}

func headlineTable(_ rows: [HeadlineRow]) -> String {
  guard !rows.isEmpty else { return "" }
  var html = "<table class=\"headlines\"><thead><tr><th>head</th><th>kind</th><th>split</th><th>rows</th>"
  html += "<th>metrics (95% interval)</th></tr></thead><tbody>"
  for row in rows {
    html += "<tr><td><a href=\"#head-\(anchor(row.head))\">\(escape(row.head))</a></td>"
    html += "<td><span class=\"kind\">\(escape(row.kind))</span></td><td>\(escape(row.split))</td>"
    html += "<td class=\"number\">\(row.count)</td><td>"
    html += row.metrics.map(metricHTML).joined(separator: "<span class=\"sep\"> \u{b7} </span>")
    html += "</td></tr>"
  }
  return html + "</tbody></table>"
}

func metricHTML(_ metric: MetricValue) -> String {
  var html = "<span class=\"metric\">\(escape(metric.name)) <b>\(fixed(metric.value, metric.digits))</b>"
  if let low = metric.low, let high = metric.high {
    html += " <span class=\"interval\">[\(fixed(low, metric.digits)), \(fixed(high, metric.digits))]</span>"
  }
  return html + "</span>"
}

func headSection(_ head: HeadSection) -> String {
  var html = "<section class=\"head\" id=\"head-\(anchor(head.name))\" data-kind=\"\(escape(head.kind))\">"
  html += "<h2>\(escape(head.name)) <span class=\"kind\">\(escape(head.kind))</span> "
  html += "<span class=\"column\">column \(escape(head.column))</span></h2><div class=\"grid\">"
  for chart in head.charts {
    html += "<figure class=\"card chart\"><figcaption>\(escape(chart.title))</figcaption>"
    html += lineChartSVG(chart) + "</figure>"
  }
  for panel in head.panels {
    switch panel {
    case .confusion(let plot):
      html += "<figure class=\"card confusion\"><figcaption>\(escape(plot.title))</figcaption>"
      html += heatMapSVG(plot) + "</figure>"
    case .histogram(let plot):
      html += "<figure class=\"card histogram\"><figcaption>\(escape(plot.title))</figcaption>"
      html += histogramSVG(plot) + "</figure>"
    case .scatter(let plot):
      html += "<figure class=\"card scatter\"><figcaption>\(escape(plot.title))</figcaption>"
      html += scatterSVG(plot) + "</figure>"
    case .wheel(let plot):
      html += "<figure class=\"card wheel\"><figcaption>\(escape(plot.title))</figcaption>"
      html += wheelSVG(plot) + "<p class=\"hint\">dots: rows predicted right (area by count); chords: true "
      html += "\u{2192} predicted, coloured by the true hue, width by count</p></figure>"
    }
  }
  html += "</div>"
  if !head.worst.isEmpty {
    html += "<div class=\"card worst\"><h3>Worst \(head.worst.count) validation rows"
    html += head.worstRanking.isEmpty ? "" : " <span class=\"hint\">by \(escape(head.worstRanking))</span>"
    html += "</h3><ol class=\"cases\">"
    for item in head.worst { html += worstCaseHTML(item) }
    html += "</ol></div>"
  }
  return html + "</section>"
}

func worstCaseHTML(_ item: WorstCase) -> String {
  var html = "<li class=\"case\">"
  switch item.thumbnail {
  case .jpeg(let bytes, let width, let height):
    html += "<img class=\"thumb\" src=\"\(dataURI(jpeg: bytes))\" width=\"\(width)\" height=\"\(height)\" "
    html += "alt=\"\(escape(item.path))\"/>"
  case .unavailable(let reason):
    html += "<div class=\"thumb placeholder\" title=\"\(escape(reason))\"><span>\(escape(reason))</span></div>"
  }
  html += "<div class=\"caption\"><div class=\"path\" title=\"\(escape(item.path))\">\(escape(item.path))</div>"
  html += "<div>true <b>\(escape(item.truth))</b></div><div>predicted <b class=\"wrong\">"
  html += "\(escape(item.predicted))</b></div>"
  // Whole numbers (wheel steps) without decimals.
  let loss = fixed(item.loss, item.loss == item.loss.rounded() ? 0 : 3)
  html += "<div class=\"loss\">\(escape(item.lossName)) \(loss)</div></div></li>"
  return html
}

/// The page's CSS: a light card layout, a responsive grid of figures, system fonts only.
let styleSheet = """
  :root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f3f4f6;--accent:#2563eb}
  *{box-sizing:border-box}
  body{margin:0;padding:24px;background:var(--bg);color:var(--ink);
  font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
  h1{margin:0 0 12px;font-size:22px}
  h2{margin:28px 0 12px;font-size:19px;display:flex;align-items:baseline;gap:10px;flex-wrap:wrap}
  h3{margin:0 0 10px;font-size:15px}
  a{color:var(--accent);text-decoration:none}
  .card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:14px 16px;
  box-shadow:0 1px 2px rgba(0,0,0,.04)}
  .warning{background:#fef3c7;border:1px solid #f59e0b;border-radius:8px;padding:8px 12px;margin:0 0 12px}
  .summary{display:grid;grid-template-columns:minmax(240px,1fr) minmax(320px,2.2fr);gap:20px;align-items:start}
  .facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:0}
  .facts dt{color:var(--muted)}
  .facts dd{margin:0;overflow-wrap:anywhere}
  table.headlines{border-collapse:collapse;width:100%}
  .headlines th{text-align:left;color:var(--muted);font-weight:500;border-bottom:1px solid var(--line);padding:4px 8px}
  .headlines td{border-bottom:1px solid var(--line);padding:5px 8px;vertical-align:top}
  .number{text-align:right;font-variant-numeric:tabular-nums}
  .metric b{font-variant-numeric:tabular-nums}
  .interval{color:var(--muted);font-variant-numeric:tabular-nums}
  .sep{color:var(--muted)}
  nav{margin-top:12px;display:flex;gap:8px;flex-wrap:wrap}
  nav a{border:1px solid var(--line);border-radius:999px;padding:2px 10px}
  .kind{font-size:12px;font-weight:500;background:#eef2ff;color:#3730a3;border-radius:999px;padding:1px 8px}
  .column{font-size:13px;font-weight:400;color:var(--muted)}
  .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:14px;align-items:start}
  figure{margin:0}
  figcaption{font-weight:600;margin-bottom:6px}
  svg{display:block;width:100%;height:auto;font-family:inherit}
  .wheel svg{max-width:520px;margin:0 auto}
  .scatter svg{max-width:400px;margin:0 auto}
  .confusion svg{margin:0 auto}
  .hint{color:var(--muted);font-size:12px;font-weight:400;margin:6px 0 0}
  .worst{margin-top:14px}
  ol.cases{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(128px,1fr));
  gap:12px}
  .case{display:flex;flex-direction:column;gap:6px}
  .thumb{width:100%;height:110px;object-fit:contain;background:#f9fafb;border-radius:6px;border:1px solid var(--line)}
  .placeholder{display:flex;align-items:center;justify-content:center;padding:8px;text-align:center;
  color:var(--muted);font-size:11px;overflow:hidden;overflow-wrap:anywhere;
  background:repeating-linear-gradient(45deg,#f9fafb,#f9fafb 8px,#f3f4f6 8px,#f3f4f6 16px)}
  .caption{font-size:12px;line-height:1.35}
  .path{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;white-space:nowrap;overflow:hidden;
  text-overflow:ellipsis}
  .wrong{color:#be123c}
  .loss{color:var(--muted)}
  footer{margin-top:24px;color:var(--muted);font-size:12px}
  @media (max-width:800px){.summary{grid-template-columns:1fr}body{padding:12px}}
  """
