// A small RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF line ends.

import Foundation

/// A parsed CSV file: a header and rows of the same width.
struct CSVTable {
  var header: [String]
  var rows: [[String]]

  init(text: String, source: String) throws {
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
    if inQuotes { throw ExtractError.usage("--labels \(source): a quoted field is never closed") }
    if !field.isEmpty || !record.isEmpty { endRecord() }
    guard let header = records.first else { throw ExtractError.usage("--labels \(source): the file is empty") }
    self.header = header.map { $0.trimmingCharacters(in: .whitespaces) }
    self.rows = Array(records.dropFirst())
    for (number, row) in rows.enumerated() where row.count != header.count {
      throw ExtractError.usage(
        "--labels \(source): row \(number + 2) has \(row.count) fields, the header has \(header.count)")
    }
  }
}
