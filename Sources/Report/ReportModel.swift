// What a report page shows, as plain values: the renderer (`renderReport`) turns a
// `ReportDocument` into one self-contained HTML page and knows nothing about training, so the
// page can be tested from hand-made documents and filled from any run.

/// One report page: the run's facts, each head's headline metrics, and a section per head.
public struct ReportDocument: Sendable, Equatable {
  public var title: String
  /// The run's facts, in display order (features file, backbone, rows, optimiser, ...).
  public var facts: [Fact]
  /// Shown prominently when the run should not be trusted (e.g. random backbone weights).
  public var warning: String?
  /// Each head's headline metrics per split, for the summary table.
  public var headlines: [HeadlineRow]
  public var heads: [HeadSection]
  /// Small print at the bottom (how intervals were computed, ...).
  public var notes: [String]

  public init(
    title: String, facts: [Fact], warning: String? = nil, headlines: [HeadlineRow], heads: [HeadSection],
    notes: [String] = []
  ) {
    self.title = title
    self.facts = facts
    self.warning = warning
    self.headlines = headlines
    self.heads = heads
    self.notes = notes
  }
}

/// A named fact of the run, e.g. ("backbone", "resnet50").
public struct Fact: Sendable, Equatable {
  public var name: String
  public var value: String

  public init(_ name: String, _ value: String) {
    self.name = name
    self.value = value
  }
}

/// A metric with an optional 95% interval, e.g. accuracy 0.81 [0.74, 0.86].
public struct MetricValue: Sendable, Equatable {
  public var name: String
  public var value: Double
  public var low: Double?
  public var high: Double?
  /// Decimals shown.
  public var digits: Int

  public init(_ name: String, _ value: Double, low: Double? = nil, high: Double? = nil, digits: Int = 3) {
    self.name = name
    self.value = value
    self.low = low
    self.high = high
    self.digits = digits
  }
}

/// One line of the summary table: a head's metrics on one split.
public struct HeadlineRow: Sendable, Equatable {
  public var head: String
  public var kind: String
  public var split: String
  /// Labelled rows the metrics are computed on.
  public var count: Int
  public var metrics: [MetricValue]

  public init(head: String, kind: String, split: String, count: Int, metrics: [MetricValue]) {
    self.head = head
    self.kind = kind
    self.split = split
    self.count = count
    self.metrics = metrics
  }
}

/// Everything shown for one head.
public struct HeadSection: Sendable, Equatable {
  public var name: String
  public var kind: String
  /// The label column the head learns.
  public var column: String
  /// Loss curves first, then metric curves, one chart each.
  public var charts: [LineChart]
  public var panels: [Panel]
  /// The validation rows with the highest loss, worst first.
  public var worst: [WorstCase]
  /// How `worst` was ranked, e.g. "cross-entropy of the true class".
  public var worstRanking: String

  public init(
    name: String, kind: String, column: String, charts: [LineChart], panels: [Panel], worst: [WorstCase] = [],
    worstRanking: String = ""
  ) {
    self.name = name
    self.kind = kind
    self.column = column
    self.charts = charts
    self.panels = panels
    self.worst = worst
    self.worstRanking = worstRanking
  }
}

/// Per-epoch curves; epochs are counted from 1 and `values[i]` belongs to epoch i + 1.
public struct LineChart: Sendable, Equatable {
  public var title: String
  public var yLabel: String
  public var series: [Series]
  /// The epoch whose weights were kept, marked by a vertical line.
  public var bestEpoch: Int?
  /// Fixed y range (e.g. 0...1 for accuracy); otherwise fitted to the data.
  public var yRange: ClosedRange<Double>?

  public init(title: String, yLabel: String, series: [Series], bestEpoch: Int?, yRange: ClosedRange<Double>? = nil) {
    self.title = title
    self.yLabel = yLabel
    self.series = series
    self.bestEpoch = bestEpoch
    self.yRange = yRange
  }
}

/// One line of a chart. NaN values are gaps.
public struct Series: Sendable, Equatable {
  public var name: String
  public var values: [Double]
  public var role: SeriesRole
  /// Optional 95% band around the values, one (low, high) per value, drawn shaded.
  public var bandLow: [Double]?
  public var bandHigh: [Double]?

  public init(name: String, values: [Double], role: SeriesRole, bandLow: [Double]? = nil, bandHigh: [Double]? = nil) {
    self.name = name
    self.values = values
    self.role = role
    self.bandLow = bandLow
    self.bandHigh = bandHigh
  }
}

/// Picks a series' colour, so the same role looks the same on every chart.
public enum SeriesRole: String, Sendable, Equatable {
  case train
  case validation
  case metric
  case secondMetric
}

/// A head's detail plots.
public enum Panel: Sendable, Equatable {
  case confusion(ConfusionPlot)
  case histogram(ScoreHistogram)
  case scatter(ScatterPlot)
  case wheel(WheelPlot)
}

/// Counts of rows by true and predicted class, counts[true][predicted]: a confusion matrix drawn
/// as a heat map (`ConfusionPlot`), or where an embedding head's predictions land on its wheel
/// (`WheelPlot`, classes in wheel order, the last next to the first). One value, two drawings.
public struct ClassCounts: Sendable, Equatable {
  public var title: String
  public var classNames: [String]
  public var counts: [[Int]]

  public init(title: String, classNames: [String], counts: [[Int]]) {
    self.title = title
    self.classNames = classNames
    self.counts = counts
  }
}

/// A confusion matrix as a heat map.
public typealias ConfusionPlot = ClassCounts

/// An embedding head's predictions on its wheel.
public typealias WheelPlot = ClassCounts

/// Scores in [0, 1] of a sigmoid head, one list per true class (negative first), with the
/// decision threshold.
public struct ScoreHistogram: Sendable, Equatable {
  public var title: String
  public var classNames: [String]
  public var scores: [[Double]]
  public var threshold: Double
  public var bins: Int

  public init(title: String, classNames: [String], scores: [[Double]], threshold: Double, bins: Int = 20) {
    self.title = title
    self.classNames = classNames
    self.scores = scores
    self.threshold = threshold
    self.bins = bins
  }
}

/// Predicted against true values of a regression head, in the label's units.
public struct ScatterPlot: Sendable, Equatable {
  public var title: String
  public var truth: [Double]
  public var predicted: [Double]
  /// The label range the head was trained on; the axes cover it (and any point outside it).
  public var low: Double
  public var high: Double

  public init(title: String, truth: [Double], predicted: [Double], low: Double, high: Double) {
    self.title = title
    self.truth = truth
    self.predicted = predicted
    self.low = low
    self.high = high
  }
}

/// One badly predicted row.
public struct WorstCase: Sendable, Equatable {
  /// The image path as stored in the feature file.
  public var path: String
  public var truth: String
  public var predicted: String
  /// The row's loss (or error) by the head's ranking, shown with `lossName`.
  public var loss: Double
  public var lossName: String
  public var thumbnail: Thumbnail

  public init(path: String, truth: String, predicted: String, loss: Double, lossName: String, thumbnail: Thumbnail) {
    self.path = path
    self.truth = truth
    self.predicted = predicted
    self.loss = loss
    self.lossName = lossName
    self.thumbnail = thumbnail
  }
}

/// An embedded image, or why there is none.
public enum Thumbnail: Sendable, Equatable {
  /// Baseline JPEG bytes of a small image.
  case jpeg([UInt8], width: Int, height: Int)
  case unavailable(String)
}
