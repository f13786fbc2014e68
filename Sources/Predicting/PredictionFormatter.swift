// Writing predictions as CSV (RFC 4180 quoting) or JSON lines, one record per image.
//
// CSV columns: `path`, `status` (`ok` or `failed`), `error` (why an image failed), then per head
//   softmax    `<head>` the predicted class, `<head>:<class>` each class' probability
//   sigmoid    `<head>` the labels over their thresholds joined by `;` (`-` for none, as fit-heads
//              reads label sets), `<head>:<label>` each label's probability
//   tanh       `<head>` the value in the label's units (`<head>:<i>` per output when several)
//   embedding  `<head>` the nearest wheel class (the hue)
// A failed image's head columns are empty. JSON lines carry the same fields, a head's as one
// value: `{"class": ..., "probabilities": {class: p}}`, `{"labels": [...], "probabilities":
// {...}}`, a number (an array when several), or the hue's name.
// Numbers are written as the shortest text that reads back to the same float32.

import FeatureStore
import Heads

/// One image's line: its reported path and either its predictions or why it failed.
public struct PredictionRecord: Equatable, Sendable {
  public var path: String
  /// Why the image could not be used; nil when `heads` holds its predictions.
  public var failure: String?
  /// One per head, in head order; empty for a failed image.
  public var heads: [HeadPrediction]

  public init(path: String, failure: String?, heads: [HeadPrediction]) {
    self.path = path
    self.failure = failure
    self.heads = heads
  }
}

/// Formats records for one heads file in one format.
public struct PredictionFormatter: Sendable {
  public let format: PredictionFormat
  let specs: [HeadSpec]
  let classNames: [String: [String]]

  public init(heads: HeadsFile, format: PredictionFormat) {
    self.format = format
    self.specs = heads.specs
    self.classNames = heads.classNames
  }

  /// The CSV header columns, in order.
  public var columns: [String] {
    var columns = ["path", "status", "error"]
    for spec in specs {
      switch spec.kind {
      case .softmax, .sigmoid:
        columns.append(spec.name)
        columns += (classNames[spec.name] ?? []).map { "\(spec.name):\($0)" }
      case .tanh:
        columns += spec.outputs == 1 ? [spec.name] : (0..<spec.outputs).map { "\(spec.name):\($0)" }
      case .embedding:
        columns.append(spec.name)
      }
    }
    return columns
  }

  /// What starts the file: the CSV header line; nothing for JSON lines.
  public var header: String {
    format == .csv ? csvLine(columns) : ""
  }

  /// One record as a line, with its line break.
  public func line(_ record: PredictionRecord) -> String {
    format == .csv ? csvRecord(record) : jsonRecord(record)
  }

  private func csvRecord(_ record: PredictionRecord) -> String {
    var fields = [record.path, record.failure == nil ? "ok" : "failed", record.failure ?? ""]
    if record.failure != nil {
      fields += [String](repeating: "", count: columns.count - 3)
      return csvLine(fields)
    }
    for prediction in record.heads {
      switch prediction {
      case .classification(let predicted, let probabilities):
        fields.append(predicted)
        fields += probabilities.map(number)
      case .labels(let labels, let probabilities):
        fields.append(labels.isEmpty ? "-" : labels.joined(separator: ";"))
        fields += probabilities.map(number)
      case .values(let values):
        fields += values.map(number)
      case .hue(let name):
        fields.append(name)
      }
    }
    return csvLine(fields)
  }

  private func jsonRecord(_ record: PredictionRecord) -> String {
    var members = [("path", jsonString(record.path))]
    if let failure = record.failure {
      members += [("status", jsonString("failed")), ("error", jsonString(failure))]
      return jsonObject(members) + "\n"
    }
    members.append(("status", jsonString("ok")))
    for (spec, prediction) in zip(specs, record.heads) {
      let names = classNames[spec.name] ?? []
      let value: String
      switch prediction {
      case .classification(let predicted, let probabilities):
        value = jsonObject([
          ("class", jsonString(predicted)), ("probabilities", jsonObject(zip(names, probabilities.map(jsonNumber)))),
        ])
      case .labels(let labels, let probabilities):
        value = jsonObject([
          ("labels", "[" + labels.map(jsonString).joined(separator: ", ") + "]"),
          ("probabilities", jsonObject(zip(names, probabilities.map(jsonNumber)))),
        ])
      case .values(let values):
        value =
          values.count == 1 ? jsonNumber(values[0]) : "[" + values.map(jsonNumber).joined(separator: ", ") + "]"
      case .hue(let name):
        value = jsonString(name)
      }
      members.append((spec.name, value))
    }
    return jsonObject(members) + "\n"
  }
}

/// The shortest decimal text that reads back to the same float32 ("nan"/"inf" as Swift spells them).
private func number(_ value: Float) -> String { value.description }

/// A JSON string literal; control characters escaped.
func jsonString(_ text: String) -> String {
  var out = "\""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    case _ where scalar.value < 0x20: out += "\\u" + String(format0x4(scalar.value))
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out + "\""
}

/// JSON has no NaN or infinity: those become null.
private func jsonNumber(_ value: Float) -> String { value.isFinite ? value.description : "null" }

private func jsonObject<S: Sequence>(_ members: S) -> String where S.Element == (String, String) {
  "{" + members.map { jsonString($0.0) + ": " + $0.1 }.joined(separator: ", ") + "}"
}

/// Four lowercase hex digits.
private func format0x4(_ value: UInt32) -> String {
  let hex = String(value, radix: 16)
  return String(repeating: "0", count: max(0, 4 - hex.count)) + hex
}
