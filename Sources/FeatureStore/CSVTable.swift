// A small RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF line ends. Shared by
// `extract --labels` (the manifest) and `fit-heads --labels` (labels joined on the path), so
// both read a CSV file the same way.

import Foundation

/// A CSV file that cannot be used as a table, with what is wrong (phrased to follow the file
/// name, e.g. "row 3 has 2 fields, the header has 3").
public struct CSVError: Error, CustomStringConvertible, Equatable, Sendable {
  public var problem: String
  public init(_ problem: String) { self.problem = problem }
  public var description: String { problem }
}

/// A parsed CSV file: a header and rows of the same width.
public struct CSVTable: Sendable, Equatable {
  /// Column names, trimmed of spaces.
  public var header: [String]
  /// Records after the header, each as wide as the header; fields as written (not trimmed).
  public var rows: [[String]]

  /// Parses `text`; blank lines are skipped. Throws `CSVError` for an unclosed quote, an empty
  /// file or a row whose width differs from the header's.
  public init(text: String) throws {
    var records: [[String]] = []
    var record: [String] = []
    var field = ""
    var inQuotes = false
    var iterator = text.unicodeScalars.makeIterator()
    var pending: Unicode.Scalar? = iterator.next()
    func endRecord() {
      record.append(field)
      field = ""
      if !(record.count == 1 && record[0].isEmpty) { records.append(record) }
      record = []
    }
    while let scalar = pending {
      pending = iterator.next()
      if inQuotes {
        if scalar == "\"" {
          if pending == "\"" {
            field.unicodeScalars.append("\"")
            pending = iterator.next()
          } else {
            inQuotes = false
          }
        } else {
          field.unicodeScalars.append(scalar)
        }
        continue
      }
      switch scalar {
      case "\"": inQuotes = true
      case ",":
        record.append(field)
        field = ""
      case "\r":
        if pending == "\n" { pending = iterator.next() }
        endRecord()
      case "\n": endRecord()
      default: field.unicodeScalars.append(scalar)
      }
    }
    if inQuotes { throw CSVError("a quoted field is never closed") }
    if !field.isEmpty || !record.isEmpty { endRecord() }
    guard let header = records.first else { throw CSVError("the file is empty") }
    self.header = header.map { $0.trimmingCharacters(in: .whitespaces) }
    self.rows = Array(records.dropFirst())
    for (number, row) in rows.enumerated() where row.count != header.count {
      throw CSVError("row \(number + 2) has \(row.count) fields, the header has \(header.count)")
    }
  }

  /// Reads and parses the file at `path`. The thrown `CSVError` says what is wrong, without the
  /// path: callers prefix their option and path.
  public init(contentsOf path: String) throws {
    guard let data = FileManager.default.contents(atPath: path) else { throw CSVError("cannot read the file") }
    try self.init(data: data)
  }

  /// Parses a file's bytes, which must be UTF-8 (what `init(contentsOf:)` does once it has read
  /// the file; the fuzz target in Fuzz/ calls this).
  public init(data: Data) throws {
    guard let text = String(data: data, encoding: .utf8) else { throw CSVError("not UTF-8 text") }
    try self.init(text: text)
  }
}

/// A CSV line, the one way Headstart writes CSV: fields holding a comma, quote, CR or LF are
/// quoted, quotes doubled (RFC 4180), so `CSVTable` and Python's csv module read them back.
public func csvLine(_ fields: [String]) -> String {
  fields.map { field in
    guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else {
      return field
    }
    return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }.joined(separator: ",") + "\n"
}
