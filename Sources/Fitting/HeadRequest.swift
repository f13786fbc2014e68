// Heads as the user declares them: `--head NAME=KIND:COLUMN` or a JSON file.

import Foundation
import Heads
import Yams

/// One head the user asked for, before it is checked against the feature file's columns.
public struct HeadRequest: Codable, Equatable, Sendable {
  public var name: String
  public var kind: String
  public var column: String
  public var hidden: [Int]?
  public var lossWeight: Float?
  /// tanh only: the label range mapped onto [-1, 1]; inferred from the training labels if absent.
  public var range: [Double]?
  /// softmax and sigmoid: per-class loss factors during training, as Keras `class_weight`:
  /// "balanced" (n_rows / (n_classes x rows of the class), as scikit-learn defines it) or
  /// {"class name": weight}; classes not named weigh 1.
  public var classWeights: ClassWeights?
  /// embedding only: the classes in wheel order (default: the 12 hues from Magenta round to
  /// Blue-Magenta) and the learned vectors' dimensions (default 10).
  public var wheel: [String]?
  public var dimensions: Int?
  /// sigmoid only: the text between labels in a cell of a multi-label column (default `;`);
  /// `_` reads folder names such as `black_jeans` as the labels black and jeans.
  public var separator: String?
  /// Dropout rate in [0, 1) during training (`HeadSpec.dropout`: after each hidden ReLU layer,
  /// or on the input of a head without hidden layers); absent is 0.
  public var dropout: Float?
  /// The taps the head reads, of those the features store (or `--taps` keeps), in the order its
  /// first layer reads them; absent: every tap. `taps: [block1_pool]` gives a colour head the
  /// early features VGG16's last block has lost (Docs/heads.md).
  public var taps: [String]?

  enum CodingKeys: String, CodingKey, CaseIterable {
    case name, kind, column, hidden, range, wheel, dimensions
    case dropout, taps
    case lossWeight = "loss_weight"
    case classWeights = "class_weights"
    case separator
  }

  public init(name: String, kind: String, column: String, hidden: [Int]? = nil, lossWeight: Float? = nil) {
    self.name = name
    self.kind = kind
    self.column = column
    self.hidden = hidden
    self.lossWeight = lossWeight
  }

  /// Parses `NAME=KIND:COLUMN` or `NAME=KIND:COLUMN@TAP[+TAP...]`, e.g. `harmony=softmax:harmony`
  /// or `color=softmax:color@block1_pool+block2_pool`.
  public static func parse(_ text: String) throws -> HeadRequest {
    let usage = FitError.usage(
      "--head \(text): expected NAME=KIND:COLUMN or NAME=KIND:COLUMN@TAP+TAP, e.g. harmony=softmax:harmony")
    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
    let rest = parts.count == 2 ? parts[1].split(separator: ":", maxSplits: 1).map(String.init) : []
    guard parts.count == 2, rest.count == 2, !parts[0].isEmpty, !rest[0].isEmpty, !rest[1].isEmpty else {
      throw usage
    }
    var request = HeadRequest(name: parts[0], kind: rest[0], column: rest[1])
    if let at = rest[1].lastIndex(of: "@") {
      request.column = String(rest[1][..<at])
      let taps = rest[1][rest[1].index(after: at)...].split(separator: "+", omittingEmptySubsequences: false)
      guard !request.column.isEmpty, !taps.contains(where: \.isEmpty) else { throw usage }
      request.taps = taps.map(String.init)
    }
    return request
  }

  /// Reads a heads file, YAML (`.yaml`, `.yml`) or JSON, holding a list `heads` of entries with
  /// `name`, `kind`, `column` and optionally `hidden`, `loss_weight`, `class_weights`, `range`,
  /// `wheel`, `dimensions`, `separator`, `dropout`, `taps`. Any other key is refused, naming the key, the
  /// head and the keys allowed: a misspelt `hiden` must not train a head without its hidden layer.
  public static func load(file path: String) throws -> [HeadRequest] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw FitError.usage("--heads \(path): cannot read the file")
    }
    return try load(data: data, yaml: path.hasSuffix(".yaml") || path.hasSuffix(".yml"), shownAs: path)
  }

  /// Reads a heads file's bytes, YAML or JSON, as `load(file:)` does once it has read the file;
  /// `path` names the file in errors (the fuzz targets in Fuzz/ call this).
  public static func load(data: Data, yaml: Bool, shownAs path: String) throws -> [HeadRequest] {
    struct File: Decodable { var heads: [HeadRequest] }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
      yaml ? try YAMLDecoder().decode(type, from: data) : try JSONDecoder().decode(type, from: data)
    }
    // The keys first: a misspelt required key is reported as the unknown key it is.
    if let keys = try? decode(KeysOfHeadsFile.self), let problem = keys.unknownKey() {
      throw FitError.usage("--heads \(path): \(problem)")
    }
    do {
      return try decode(File.self).heads
    } catch {
      throw FitError.usage("--heads \(path): not a heads file (\(error))".replacingOccurrences(of: "\n", with: " "))
    }
  }
}

/// The keys a heads file's mappings hold, read before the file is decoded.
private struct KeysOfHeadsFile: Decodable {
  struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  var root: [String]
  /// Each entry of `heads`: its keys and, when it has one, its name.
  var heads: [(keys: [String], name: String?)] = []

  init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: AnyKey.self)
    root = container.allKeys.map(\.stringValue)
    let headsKey = AnyKey(stringValue: "heads")
    guard container.contains(headsKey), var list = try? container.nestedUnkeyedContainer(forKey: headsKey) else {
      return
    }
    while !list.isAtEnd {
      guard let entry = try? list.nestedContainer(keyedBy: AnyKey.self) else { return }
      heads.append(
        (entry.allKeys.map(\.stringValue), try? entry.decode(String.self, forKey: AnyKey(stringValue: "name"))))
    }
  }

  /// The first key that is not allowed, as one sentence; nil when every key is known.
  func unknownKey() -> String? {
    if let key = root.sorted().first(where: { $0 != "heads" }) {
      return "unknown key '\(key)' at the top level (allowed: heads)"
    }
    let allowed = HeadRequest.CodingKeys.allCases.map(\.rawValue)
    for (index, head) in heads.enumerated() {
      if let key = head.keys.sorted().first(where: { !allowed.contains($0) }) {
        let which = head.name.map { "head '\($0)'" } ?? "head \(index + 1)"
        return "\(which): unknown key '\(key)' (allowed: \(allowed.joined(separator: ", ")))"
      }
    }
    return nil
  }
}

/// Per-class loss factors of a classification head.
public enum ClassWeights: Codable, Equatable, Sendable {
  case balanced
  case explicit([String: Float])

  public init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let text = try? container.decode(String.self) {
      guard text == "balanced" else {
        throw DecodingError.dataCorruptedError(
          in: container, debugDescription: "class_weights: expected \"balanced\" or {\"class\": weight}")
      }
      self = .balanced
    } else {
      self = .explicit(try container.decode([String: Float].self))
    }
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .balanced: try container.encode("balanced")
    case .explicit(let weights): try container.encode(weights)
    }
  }

  /// The factor of each class, from the training rows' labels (-1 = missing).
  func factors(classes: [String], trainLabels: [Int32]) throws -> [Float] {
    switch self {
    case .balanced:
      var counts = [Int](repeating: 0, count: classes.count)
      for label in trainLabels where label >= 0 { counts[Int(label)] += 1 }
      let total = counts.reduce(0, +)
      return counts.map { $0 == 0 ? 0 : Float(Double(total) / (Double(classes.count) * Double($0))) }
    case .explicit(let weights):
      if let unknown = weights.keys.sorted().first(where: { !classes.contains($0) }) {
        throw FitError.usage("class_weights: '\(unknown)' is not a class (classes: \(classes.joined(separator: ", ")))")
      }
      return classes.map { weights[$0] ?? 1 }
    }
  }
}
