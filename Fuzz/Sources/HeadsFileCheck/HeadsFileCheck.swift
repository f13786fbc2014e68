// What fit-heads does with a heads file before it trains: read it (HeadRequest.load(data:)),
// then check every head against the feature file's label columns (Fitting.checkHeads). The label
// columns here are a small fixed set with every kind of column a head can name, so a fuzzed file
// reaches every head kind's checks.
import FeatureStore
import Fitting
import Foundation

/// Six rows: numbers (one missing), single classes, multi-label sets, two classes, wheel colours.
private let labels: [LabelColumn] = [
  .numeric(name: "score", values: [0.5, 2, .nan, 7.5, 1, 3]),
  .categorical(name: "harmony", classes: ["high", "low", "mid"], indices: [0, 1, 2, 0, -1, 2]),
  .categorical(name: "tags", classes: ["-", "warm", "warm;bright"], indices: [0, 1, 2, 1, 2, -1]),
  .categorical(name: "pet", classes: ["cat", "dog"], indices: [0, 1, 0, 1, 1, 0]),
  .categorical(name: "colour", classes: ["Blue", "Red", "Yellow Green"], indices: [0, 1, 2, 2, 1, 0]),
]

/// Reads `data` as a heads file (YAML or JSON) and checks its heads; errors are expected, a crash
/// or a hang is a finding.
public func checkHeadsFile(_ bytes: UnsafeRawBufferPointer, yaml: Bool) {
  guard let requests = try? HeadRequest.load(data: Data(bytes), yaml: yaml, shownAs: "heads") else { return }
  _ = try? checkHeads(requests, labels: labels, trainRows: [0, 1, 3, 4, 5])
}
