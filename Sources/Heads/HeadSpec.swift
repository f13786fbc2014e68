// What one head is: its kind, its layers and its weight in the total loss.

/// The kinds of head `fit-heads` trains on cached features.
public enum HeadKind: String, CaseIterable, Sendable {
  /// Regression: targets mapped onto [-1, 1], one tanh unit per output, mean squared error.
  case tanh
  /// Single-label classification: softmax over the classes, categorical cross-entropy.
  case softmax
  /// Binary or multi-label classification: one sigmoid per label, binary cross-entropy.
  case sigmoid
  /// Colour wheel: Dense to `dimensions` outputs, a learned vector per wheel class, the nearest
  /// class vector is the prediction; wheel-smoothed prototype cross-entropy (EmbeddingLoss.swift).
  case embedding
}

/// One head: optional hidden Dense+ReLU layers, then the output layer, as Keras would build
/// `Dense(h, activation='relu')` ... `Dense(outputs, activation=kind)` on the shared features.
public struct HeadSpec: Sendable, Equatable {
  public var name: String
  public var kind: HeadKind
  /// Output units: 1 (or more) for tanh, the class count for softmax, the label count for sigmoid,
  /// the embedding width for embedding.
  public var outputs: Int
  /// Widths of the hidden ReLU layers, input side first.
  public var hidden: [Int]
  /// The head's factor in the total loss, as Keras `loss_weights`.
  public var lossWeight: Float
  /// Embedding heads only: the class names in wheel order (neighbours adjacent, last next to
  /// first); one learned class vector each. Empty for the other kinds.
  public var wheelClasses: [String] = []
  /// Embedding heads only: the width, in wheel steps, of the Gaussian soft targets. 0.5 puts
  /// weight e^-2 (0.135 of the true class') on each neighbour and ~0 beyond: enough to order the
  /// class vectors around the wheel, while 1 (0.61 per neighbour) cost 25 points of accuracy on
  /// the synthetic test in Tests/HeadsTests/EmbeddingHeadTests.swift; see Docs/heads.md.
  public var wheelSigma: Double = 0.5
  /// Dropout rate in [0, 1) during training, as Keras `Dropout(rate)`: after every hidden ReLU
  /// layer, or, for a head without hidden layers, on the head's input (its own mask over the
  /// shared features). Kept units are scaled by 1 / (1 - rate); no dropout at validation or
  /// prediction. 0 (the default) is no dropout.
  public var dropout: Float = 0
  /// The feature columns the head reads, when it reads only some of the taps (a head's own
  /// `taps`); nil: every column. The first layer's kernel rows of the other columns are zero and
  /// stay zero: training feeds the head its input with those columns zeroed, so their gradient
  /// is zero too, and every optimiser leaves a zero weight with zero gradient at zero.
  public var inputColumns: [Range<Int>]? = nil

  public init(name: String, kind: HeadKind, outputs: Int, hidden: [Int] = [], lossWeight: Float = 1) {
    self.name = name
    self.kind = kind
    self.outputs = outputs
    self.hidden = hidden
    self.lossWeight = lossWeight
  }

  /// The default colour wheel, in order.
  public static let defaultWheel = [
    "Magenta", "Red-Magenta", "Red", "Orange", "Yellow", "Yellow-Green", "Green", "Green-Cyan", "Cyan",
    "Blue-Cyan", "Blue", "Blue-Magenta",
  ]

  /// A colour-wheel embedding head predicting `dimensions`-wide vectors, one learned class
  /// vector per entry of `wheelClasses`.
  public static func embedding(
    name: String, dimensions: Int = 10, wheelClasses: [String] = defaultWheel, wheelSigma: Double = 0.5,
    hidden: [Int] = [], lossWeight: Float = 1
  ) -> HeadSpec {
    var spec = HeadSpec(name: name, kind: .embedding, outputs: dimensions, hidden: hidden, lossWeight: lossWeight)
    spec.wheelClasses = wheelClasses
    spec.wheelSigma = wheelSigma
    return spec
  }

  /// How many feature columns the head reads, of `inputWidth`.
  public func readWidth(of inputWidth: Int) -> Int {
    inputColumns.map { $0.reduce(0) { $0 + $1.count } } ?? inputWidth
  }

  /// The columns of `inputWidth` the head does not read, as ranges in order.
  func ignoredColumns(of inputWidth: Int) -> [Range<Int>] {
    guard let inputColumns else { return [] }
    var ignored: [Range<Int>] = []
    var start = 0
    for range in inputColumns.sorted(by: { $0.lowerBound < $1.lowerBound }) {
      if range.lowerBound > start { ignored.append(start..<range.lowerBound) }
      start = max(start, range.upperBound)
    }
    if start < inputWidth { ignored.append(start..<inputWidth) }
    return ignored
  }

  /// Zeroes the columns the head does not read in each of the `rows` rows of x (rows, width).
  func zeroIgnoredColumns(_ x: UnsafeMutableBufferPointer<Float>, rows: Int, width: Int) {
    let ignored = ignoredColumns(of: width)
    guard !ignored.isEmpty else { return }
    for r in 0..<rows {
      for range in ignored { (x.baseAddress! + r * width + range.lowerBound).update(repeating: 0, count: range.count) }
    }
  }

  /// The embedding width of an embedding head (its output layer's units).
  public var dimensions: Int { outputs }

  /// Columns of this head's `HeadTargets.values`: 1 (the wheel index) for embedding heads,
  /// `outputs` otherwise.
  public var targetWidth: Int { kind == .embedding ? 1 : outputs }

  /// Names of the head's Dense layers in order, Keras-style: `<name>_hidden`, `<name>_hidden_2`,
  /// ..., then `<name>` for the output layer.
  public var layerNames: [String] {
    hidden.indices.map { $0 == 0 ? "\(name)_hidden" : "\(name)_hidden_\($0 + 1)" } + [name]
  }
}

/// Targets of one head for every row, already in the head's training form.
public struct HeadTargets: Sendable {
  /// (N, targetWidth): tanh targets in [-1, 1]; softmax one-hot; sigmoid 0/1; zero where
  /// missing. Embedding: (N, 1) wheel indices, -1 where missing.
  public var values: [Float]
  /// (N): 1 where the row has a label for this head, 0 where it is missing. As in Keras with
  /// sample weights, a missing row still counts in the batch mean's denominator.
  public var rowWeights: [Float]

  public init(values: [Float], rowWeights: [Float]) {
    self.values = values
    self.rowWeights = rowWeights
  }

  /// Regression targets mapped from [low, high] onto [-1, 1]; NaN is missing. The mapping is
  /// computed in float64 and rounded once, as the fixture script does.
  public static func regression(_ labels: [Float], low: Double, high: Double) -> HeadTargets {
    HeadTargets(
      values: labels.map { $0.isNaN ? 0 : Float((Double($0) - low) / (high - low) * 2 - 1) },
      rowWeights: labels.map { $0.isNaN ? 0 : 1 })
  }

  /// One-hot targets from class indices; -1 is missing.
  public static func classes(_ labels: [Int32], count: Int) -> HeadTargets {
    var values = [Float](repeating: 0, count: labels.count * count)
    for (row, label) in labels.enumerated() where label >= 0 { values[row * count + Int(label)] = 1 }
    return HeadTargets(values: values, rowWeights: labels.map { $0 >= 0 ? 1 : 0 })
  }

  /// Embedding-head targets (N, 1): the wheel index as a Float, -1 where missing (`labels` -1).
  public static func wheel(_ labels: [Int32]) -> HeadTargets {
    HeadTargets(values: labels.map { Float(max($0, -1)) }, rowWeights: labels.map { $0 >= 0 ? 1 : 0 })
  }

  /// Multi-label 0/1 targets, (N, labelCount); a row of negative values is missing.
  public static func multiLabel(_ labels: [Float], labelCount: Int) -> HeadTargets {
    let rows = labels.count / labelCount
    var values = labels
    var weights = [Float](repeating: 1, count: rows)
    for row in 0..<rows where labels[row * labelCount] < 0 {
      weights[row] = 0
      for j in 0..<labelCount { values[row * labelCount + j] = 0 }
    }
    return HeadTargets(values: values, rowWeights: weights)
  }
}
