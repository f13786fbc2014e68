// The heads as real Keras computes them: Fixtures/predict/make_predict_fixtures.py wrote a heads
// file with h5py (one head of each kind, hidden layers on two of them), rebuilt the heads in
// Keras from it by layer name and recorded Keras' outputs for eight feature rows. Reading that
// file and applying the heads must give Keras' numbers, and the readout predict writes.

import Foundation
import Heads
import Predicting
import ToolTesting
import XCTest

final class KerasHeadsTests: XCTestCase {
  func testHeadsFromAFileKerasReadGiveKerasOutputsAndTheSameReadout() throws {
    let folder = fixturesDirectory.appendingPathComponent("predict")
    let json = try JSONSerialization.jsonObject(
      with: Data(contentsOf: folder.appendingPathComponent("predict_fixtures.json")))
    let fixture = try XCTUnwrap(json as? [String: Any])
    let rows = try XCTUnwrap(fixture["features"] as? [[Double]])
    let expected = try XCTUnwrap(fixture["heads"] as? [String: [String: Any]])
    let heads = try HeadsFile.read(path: folder.appendingPathComponent("heads.h5").path)
    XCTAssertEqual(heads.specs.map(\.name), ["style", "tags", "score", "hue"])
    XCTAssertEqual(heads.inputWidth, 10)

    let features = rows.flatMap { $0.map(Float.init) }
    let outputs = heads.model.predict(features: features)
    let readout = readHeads(heads, outputs: outputs, rows: rows.count)
    var worst: Float = 0
    for (h, spec) in heads.specs.enumerated() {
      let entry = try XCTUnwrap(expected[spec.name])
      let keras = try XCTUnwrap(entry["keras"] as? [[Double]])
      XCTAssertEqual(keras.count, rows.count)
      if spec.kind != .embedding {
        // The activated outputs themselves: probabilities, tanh values.
        for (row, values) in keras.enumerated() {
          for (j, value) in values.enumerated() {
            worst = max(worst, abs(outputs[h][row * spec.outputs + j] - Float(value)))
          }
        }
      }
      for row in 0..<rows.count {
        switch readout[row][h] {
        case .classification(let predicted, _):
          XCTAssertEqual(predicted, (entry["predicted"] as? [String])?[row], "\(spec.name) row \(row)")
        case .labels(let labels, _):
          XCTAssertEqual(labels, (entry["labels"] as? [[String]])?[row], "\(spec.name) row \(row)")
        case .values(let values):
          let units = try XCTUnwrap((entry["units"] as? [Double])?[row])
          XCTAssertEqual(Double(values[0]), units, accuracy: 1e-4, "\(spec.name) row \(row) (range 1...10)")
        case .hue(let hue):
          XCTAssertEqual(hue, (entry["hue"] as? [String])?[row], "\(spec.name) row \(row)")
        }
      }
    }
    print("max |ours - keras| over the softmax, sigmoid and tanh outputs of \(rows.count) rows: \(worst)")
    XCTAssertLessThanOrEqual(worst, 1e-5)
    // The fixture must exercise the readout: several classes, label sets and hues occur.
    let classes = Set(
      readout.map { row -> String in
        if case .classification(let predicted, _) = row[0] { return predicted }
        return ""
      })
    let hues = Set(
      readout.map { row -> String in
        if case .hue(let hue) = row[3] { return hue }
        return ""
      })
    XCTAssertGreaterThan(classes.count, 1)
    XCTAssertGreaterThan(hues.count, 1)
  }
}
