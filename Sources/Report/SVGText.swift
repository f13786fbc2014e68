// Small pieces every chart shares: escaping, number formatting, "nice" axis ticks, and the
// colours. The page is written as well-formed XML (every element closed, attributes quoted,
// only the five XML entities), so both browsers and an XML parser read it the same way.

import Foundation

/// `text` safe inside an element or a double-quoted attribute.
func escape(_ text: String) -> String {
  var out = ""
  out.reserveCapacity(text.count)
  for character in text {
    switch character {
    case "&": out += "&amp;"
    case "<": out += "&lt;"
    case ">": out += "&gt;"
    case "\"": out += "&quot;"
    case "'": out += "&#39;"
    default: out.append(character)
    }
  }
  return out
}

/// A coordinate with at most two decimals, no trailing zeros ("12.5", "3", "-0.25").
func coordinate(_ value: Double) -> String {
  guard value.isFinite else { return "0" }
  var text = String(format: "%.2f", value)
  while text.hasSuffix("0") { text.removeLast() }
  if text.hasSuffix(".") { text.removeLast() }
  return text == "-0" ? "0" : text
}

/// `value` with `digits` decimals.
func fixed(_ value: Double, _ digits: Int) -> String {
  value.isFinite ? String(format: "%.\(max(0, digits))f", value) : "n/a"
}

/// Tick positions covering `low...high` at a 1, 2 or 5 x 10^k step, about `count` of them,
/// the step, and the decimals their labels need.
func niceTicks(low: Double, high: Double, count: Int = 5) -> (ticks: [Double], step: Double, decimals: Int) {
  var low = low
  var high = high
  if !(high > low) {
    low -= 0.5
    high += 0.5
  }
  let rough = (high - low) / Double(max(1, count - 1))
  let magnitude = pow(10, floor(log10(rough)))
  let fraction = rough / magnitude
  let step = (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * magnitude
  let decimals = max(0, Int(-floor(log10(step) + 1e-9)))
  // k x step, rounded to the label's decimals, so 3 x 0.2 is the tick 0.6 and not 0.6000000000000001.
  let scale = pow(10, Double(min(decimals, 12)))
  var ticks: [Double] = []
  var k = ceil(low / step - 1e-9)
  while k * step <= high + step * 1e-9 {
    ticks.append(((k * step * scale).rounded() / scale) + 0)
    k += 1
  }
  return (ticks, step, decimals)
}

/// `low...high` widened out to whole tick steps, so the outermost ticks sit on the frame.
func niceRange(low: Double, high: Double, count: Int = 5) -> ClosedRange<Double> {
  var low = low
  var high = high
  if !(high > low) {
    low -= 0.5
    high += 0.5
  }
  let step = niceTicks(low: low, high: high, count: count).step
  return (floor(low / step + 1e-9) * step)...(ceil(high / step - 1e-9) * step)
}

/// The page's colours: one per series role, and the fixed accents.
enum Palette {
  static let train = "#2563eb"
  static let validation = "#ea580c"
  static let metric = "#059669"
  static let secondMetric = "#7c3aed"
  static let best = "#6b7280"
  static let grid = "#e5e7eb"
  static let axis = "#9ca3af"
  static let ink = "#1f2937"
  static let muted = "#6b7280"
  /// Sigmoid histogram: negatives, positives.
  static let classes = ["#64748b", "#e11d48"]
  static let point = "#2563eb"

  static func color(_ role: SeriesRole) -> String {
    switch role {
    case .train: return train
    case .validation: return validation
    case .metric: return metric
    case .secondMetric: return secondMetric
    }
  }
}

/// An sRGB colour.
struct RGB: Equatable {
  var r: Int
  var g: Int
  var b: Int

  var hex: String { String(format: "#%02x%02x%02x", r, g, b) }

  init(_ r: Int, _ g: Int, _ b: Int) {
    self.r = r
    self.g = g
    self.b = b
  }

  /// HSL to RGB; hue in degrees, saturation and lightness in 0...1.
  init(hue: Double, saturation: Double, lightness: Double) {
    let c = (1 - abs(2 * lightness - 1)) * saturation
    let h = (hue.truncatingRemainder(dividingBy: 360) + 360).truncatingRemainder(dividingBy: 360) / 60
    let x = c * (1 - abs(h.truncatingRemainder(dividingBy: 2) - 1))
    let (r1, g1, b1): (Double, Double, Double)
    switch h {
    case ..<1: (r1, g1, b1) = (c, x, 0)
    case ..<2: (r1, g1, b1) = (x, c, 0)
    case ..<3: (r1, g1, b1) = (0, c, x)
    case ..<4: (r1, g1, b1) = (0, x, c)
    case ..<5: (r1, g1, b1) = (x, 0, c)
    default: (r1, g1, b1) = (c, 0, x)
    }
    let m = lightness - c / 2
    self.init(Int(((r1 + m) * 255).rounded()), Int(((g1 + m) * 255).rounded()), Int(((b1 + m) * 255).rounded()))
  }

  /// Relative luminance in 0...1 (sRGB weights, no gamma: enough to pick black or white text).
  var lightness: Double { (0.2126 * Double(r) + 0.7152 * Double(g) + 0.0722 * Double(b)) / 255 }
}

/// The heat map's colour for `fraction` of the largest count: white through light blue to
/// dark blue, linear between stops.
func heatColor(_ fraction: Double) -> RGB {
  let stops = [RGB(248, 250, 252), RGB(191, 219, 254), RGB(59, 130, 246), RGB(30, 58, 138)]
  let f = min(1, max(0, fraction.isFinite ? fraction : 0)) * Double(stops.count - 1)
  let i = min(stops.count - 2, Int(f))
  let t = f - Double(i)
  func mix(_ a: Int, _ b: Int) -> Int { Int((Double(a) + (Double(b) - Double(a)) * t).rounded()) }
  return RGB(mix(stops[i].r, stops[i + 1].r), mix(stops[i].g, stops[i + 1].g), mix(stops[i].b, stops[i + 1].b))
}

/// The colour of wheel class `index` of `count`: hues 30 degrees apart for 12 classes, starting
/// at magenta (300 degrees), so the default wheel (Magenta, Red-Magenta, Red, Orange, ...) is
/// drawn in its own colours.
func wheelColor(_ index: Int, of count: Int) -> RGB {
  RGB(hue: 300 + 360 * Double(index) / Double(max(1, count)), saturation: 0.85, lightness: 0.5)
}
