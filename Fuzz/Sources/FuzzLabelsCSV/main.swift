// libFuzzer target: one input is one labels CSV file, read as `extract --labels` and
// `fit-heads --labels` read it: the table, each row's path in its stored form, each label
// column typed (numbers or classes).
import FeatureStore
import Foundation
import FuzzDriver

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = inputBytes(data, size)
  guard let table = try? CSVTable(data: Data(bytes)) else { return 0 }
  precondition(!table.header.isEmpty && table.rows.allSatisfy { $0.count == table.header.count })
  for row in table.rows { _ = normalisedRelativePath(row[0]) }
  for column in table.header.indices.dropFirst() {
    let cells = table.rows.map { $0[column] }
    switch LabelColumn.inferred(name: table.header[column], cells: cells) {
    case .numeric(_, let values): precondition(values.count == cells.count)
    case .categorical(_, let classes, let indices):
      precondition(indices.count == cells.count && indices.allSatisfy { $0 >= -1 && $0 < classes.count })
    }
  }
  return 0
}

runLibFuzzer(testOneInput)
