// Early Keras 3 native files key layers by class group (`conv2d_3`) instead of layer name.
// Checked against what real Keras 3.15.1 wrote for the three backbones
// (Tests/Fixtures/weights/make_native_groups.py -> native_groups.json): the model.layers list
// Headstart derives, and the group -> layer name map Keras stored in the `name` attributes.
import Foundation
import XCTest

@testable import Backbones

private struct NativeGroups: Decodable {
  var layers: [[String]]
  var groups: [String: String]
}

private func nativeGroups(_ kind: BackboneKind) throws -> NativeGroups {
  let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/weights/native_groups.json")
  let all = try JSONDecoder().decode([String: NativeGroupsOrVersion].self, from: Data(contentsOf: url))
  guard case .model(let model) = all[kind.rawValue] else {
    throw WeightFileError(path: url.path, problem: "has no entry for \(kind.rawValue)")
  }
  return model
}

/// The fixture's top level mixes the `keras` version string with one object per backbone.
private enum NativeGroupsOrVersion: Decodable {
  case version(String)
  case model(NativeGroups)
  init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let version = try? container.decode(String.self) {
      self = .version(version)
    } else {
      self = .model(try container.decode(NativeGroups.self))
    }
  }
}

final class KerasWeightFileClassGroupTests: XCTestCase {
  func testKerasLayersEqualKerasModelLayers() throws {
    for kind in BackboneKind.allCases {
      let keras = try nativeGroups(kind).layers
      let ours = kind.kerasLayers.map { [$0.name, $0.className] }
      XCTAssertEqual(ours.count, keras.count, "\(kind): layer count")
      for (index, (a, b)) in zip(ours, keras).enumerated() where a != b {
        XCTFail("\(kind): layer \(index) is \(a), Keras has \(b)")
        break
      }
    }
  }

  /// Keyed by class group as an old file would be, the synthetic weights get every layer's name
  /// back from the layer list, and the backbone accepts them.
  func testClassGroupedWeightsAreRenamedAndBind() throws {
    for kind in BackboneKind.allCases {
      let fixture = try nativeGroups(kind)
      let weights = CachedWeights.of(kind)
      let groupOf = Dictionary(uniqueKeysWithValues: fixture.groups.map { ($0.value, $0.key) })
      var grouped = KerasWeights()
      for (layer, arrays) in weights.layers {
        let group = try XCTUnwrap(groupOf[layer], "\(kind): Keras wrote no group for \(layer)")
        grouped.layers[group] = arrays
      }
      // The grouped form does not bind as it is: the failure `extract` used to hit.
      XCTAssertThrowsError(try kind.validateWeights(grouped), "\(kind)")

      let renamed = namingClassGroups(grouped, layers: kind.kerasLayers)
      XCTAssertEqual(Set(renamed.layers.keys), Set(weights.layers.keys), "\(kind)")
      for (layer, arrays) in weights.layers where renamed.layers[layer] != arrays {
        XCTFail("\(kind): \(layer) got another layer's arrays")
      }
      XCTAssertNoThrow(try kind.validateWeights(renamed), "\(kind)")
      if kind == .vgg16 { XCTAssertNoThrow(try Backbone(kind: kind, weights: renamed)) }
    }
  }

  /// The naming rule itself, over every layer (weightless ones too): Keras numbers groups per
  /// snake-cased class over model.layers.
  func testEveryGroupNameFollowsFromTheLayerList() throws {
    for kind in BackboneKind.allCases {
      let fixture = try nativeGroups(kind)
      var counts: [String: Int] = [:]
      var predicted: [String: String] = [:]
      for (name, className) in kind.kerasLayers {
        let base = kerasSnakeCase(className)
        let rank = counts[base, default: 0]
        counts[base] = rank + 1
        predicted[rank == 0 ? base : "\(base)_\(rank)"] = name
      }
      XCTAssertEqual(predicted, fixture.groups, "\(kind)")
    }
  }
}
