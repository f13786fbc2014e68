// Heads as the user declares them: `--head NAME=KIND:COLUMN` or a JSON file.

import Foundation
import Heads

/// One head the user asked for, before it is checked against the feature file's columns.
public struct HeadRequest: Codable, Equatable, Sendable {
  public var name: String
  public var kind: String
  public var column: String
  public var hidden: [Int]?
  public var lossWeight: Float?
  /// tanh only: the label range mapped onto [-1, 1]; inferred from the training labels if absent.
  public var range: [Double]?

  enum CodingKeys: String, CodingKey {
    case name, kind, column, hidden, range
    case lossWeight = "loss_weight"
  }

  public init(name: String, kind: String, column: String, hidden: [Int]? = nil, lossWeight: Float? = nil) {
    self.name = name
    self.kind = kind
    self.column = column
    self.hidden = hidden
    self.lossWeight = lossWeight
  }

  /// Parses `NAME=KIND:COLUMN`, e.g. `harmony=softmax:harmony`.
  public static func parse(_ text: String) throws -> HeadRequest {
    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
    let rest = parts.count == 2 ? parts[1].split(separator: ":", maxSplits: 1).map(String.init) : []
    guard parts.count == 2, rest.count == 2, !parts[0].isEmpty, !rest[0].isEmpty, !rest[1].isEmpty else {
      throw FitError.usage("--head \(text): expected NAME=KIND:COLUMN, e.g. harmony=softmax:harmony")
    }
    return HeadRequest(name: parts[0], kind: rest[0], column: rest[1])
  }

  /// Reads `{"heads": [{"name": ..., "kind": ..., "column": ..., "hidden": [256], "loss_weight": 0.5}]}`.
  public static func load(jsonFile path: String) throws -> [HeadRequest] {
    struct File: Decodable { var heads: [HeadRequest] }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw FitError.usage("--heads \(path): cannot read the file")
    }
    do {
      return try JSONDecoder().decode(File.self, from: data).heads
    } catch {
      throw FitError.usage("--heads \(path): not a heads file (\(error))")
    }
  }
}
