// The exported model in real Keras: Tests/Fixtures/make_finetune_roundtrip.py ran extract ->
// fit-heads -> finetune on eight fixture images, loaded the exported model.h5 into
// keras.applications.ResNet50(weights=None, include_top=False).load_weights and committed
// Keras' head outputs. This test reruns the same commands and `predict` on the exported pair:
// predict must give Keras' outputs within 1e-5 (the promise of Docs/finetune.md).

import Foundation
import Heads
import ToolTesting
import XCTest

final class FinetuneRoundTripTests: XCTestCase {
  private struct Fixture: Decodable {
    struct Head: Decodable {
      var name: String
      var kind: String
      var class_names: [String]
      var label_range: [Double]?
    }
    enum Output: Decodable {
      case numbers([Double])
      case name(String)
      init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let name = try? container.decode(String.self) {
          self = .name(name)
        } else {
          self = .numbers(try container.decode([Double].self))
        }
      }
    }
    var keras_version: String
    var model_sha256: String
    var commands: [[String]]
    var heads: [Head]
    var outputs: [String: [String: Output]]
  }

  func testPredictOnTheExportedModelGivesKerasOutputs() throws {
    let folder = fixturesDirectory.appendingPathComponent("finetune_roundtrip")
    let fixture = try JSONDecoder().decode(
      Fixture.self, from: Data(contentsOf: folder.appendingPathComponent("keras_outputs.json")))
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("headstart-roundtrip-\(UUID())")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: work) }

    // The fixture's own commands, so script and test cannot drift apart.
    let images = fixturesDirectory.appendingPathComponent("images").path
    let labels = folder.appendingPathComponent("labels.csv").path
    for command in fixture.commands {
      let arguments = command.dropFirst().map {
        $0.replacingOccurrences(of: "{images}", with: images).replacingOccurrences(of: "{labels}", with: labels)
          .replacingOccurrences(of: "{work}", with: work.path)
      }
      let result = try runTool(command[0], arguments)
      XCTAssertEqual(result.status, 0, "\(command[0]): \(result.stderr)")
      guard result.status == 0 else { return }
    }

    // Same inputs, same file: a different digest means the arithmetic changed (another BLAS, a
    // kernel change); the predictions still have to agree, so it is only reported.
    let heads = try HeadsFile.read(path: work.appendingPathComponent("model.heads.h5").path)
    if heads.provenance.weightsSHA256 != fixture.model_sha256 {
      print(
        "note: model.h5 differs from the fixture's (\(heads.provenance.weightsSHA256) vs \(fixture.model_sha256));"
          + " comparing predictions anyway")
    }

    let rows = try csvRows(work.appendingPathComponent("predictions.csv").path)
    var maxDiff = 0.0
    var compared = 0
    for (path, outputs) in fixture.outputs {
      let row = try XCTUnwrap(rows.first { $0["path"] == path }, "predict has no row for \(path)")
      XCTAssertEqual(row["status"], "ok", path)
      for head in fixture.heads {
        switch (head.kind, outputs[head.name]) {
        case ("softmax", .numbers(let keras)?):
          for (name, k) in zip(head.class_names, keras) {
            let ours = try XCTUnwrap(Double(row["\(head.name):\(name)"] ?? ""), "\(path) \(head.name):\(name)")
            maxDiff = max(maxDiff, abs(ours - k))
            compared += 1
          }
        case ("tanh", .numbers(let keras)?):
          // predict writes label units; back to tanh units, where 1e-5 means the same for any range.
          let range = try XCTUnwrap(head.label_range)
          let label = try XCTUnwrap(Double(row[head.name] ?? ""), "\(path) \(head.name)")
          let ours = (label - range[0]) / (range[1] - range[0]) * 2 - 1
          maxDiff = max(maxDiff, abs(ours - keras[0]))
          compared += 1
        case ("embedding", .name(let keras)?):
          XCTAssertEqual(row[head.name], keras, "\(path) \(head.name): nearest wheel class")
        default:
          XCTFail("\(path) \(head.name): no Keras output of kind \(head.kind) in the fixture")
        }
      }
    }
    print(
      "finetune round trip: \(fixture.outputs.count) images, \(compared) values, max |predict - Keras "
        + "\(fixture.keras_version)| = \(maxDiff)")
    XCTAssertEqual(fixture.outputs.count, 8)
    XCTAssertLessThan(maxDiff, 1e-5)
  }
}
