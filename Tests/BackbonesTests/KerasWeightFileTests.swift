// Keras weight files of every generation, read back against the values the fixture script
// (Tests/Fixtures/weights/make_weight_fixtures.py) set in real Keras or wrote with h5py.
import Foundation
import HDF5
import XCTest

@testable import Backbones

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("Fixtures/weights")

private func fixturePath(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

private func scratchPath(_ name: String) -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kerasweights-\(getpid())")
  try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  return dir.appendingPathComponent(name).path
}

/// The known values: layer -> role -> {shape, values}.
private func knownWeights(_ json: String) throws -> KerasWeights {
  let data = try Data(contentsOf: fixtures.appendingPathComponent(json))
  let object = try JSONSerialization.jsonObject(with: data) as! [String: [String: [String: Any]]]
  var weights = KerasWeights()
  for (layer, roles) in object {
    for (role, entry) in roles {
      let shape = (entry["shape"] as! [NSNumber]).map(\.intValue)
      let values = (entry["values"] as! [NSNumber]).map { Float($0.doubleValue) }
      weights.layers[layer, default: [:]][WeightKind(rawValue: role)!] = WeightArray(
        shape: shape, values: values)
    }
  }
  return weights
}

/// Asserts equal layers, roles, shapes and values; prints the largest difference found.
private func assertSameWeights(
  _ actual: KerasWeights, _ expected: KerasWeights, file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(Set(actual.layers.keys), Set(expected.layers.keys), file: file, line: line)
  var maxDiff: Float = 0
  for (layer, roles) in expected.layers {
    XCTAssertEqual(
      Set(actual.layers[layer]?.keys ?? [:].keys), Set(roles.keys), layer, file: file, line: line)
    for (kind, array) in roles {
      guard let got = actual.layers[layer]?[kind] else { continue }
      XCTAssertEqual(got.shape, array.shape, "\(layer)/\(kind)", file: file, line: line)
      if got.values.count == array.values.count {
        maxDiff = max(maxDiff, zip(got.values, array.values).map { abs($0 - $1) }.max() ?? 0)
      } else {
        XCTFail(
          "\(layer)/\(kind): \(got.values.count) values, expected \(array.values.count)", file: file,
          line: line)
      }
    }
  }
  print("max |difference| = \(maxDiff)")
  XCTAssertEqual(maxDiff, 0, "values must round-trip exactly", file: file, line: line)
}

final class KerasWeightFileTests: XCTestCase {
  let tinyOrder = ["input_layer", "conv1_conv", "conv1_bn", "avg_pool", "predictions"]

  func testKeras3NativeWrittenByKeras() throws {
    let contents = try readKerasWeightFile(path: fixturePath("tiny.weights.h5"))
    XCTAssertEqual(contents.layout, .keras3Native)
    assertSameWeights(contents.weights, try knownWeights("tiny_values.json"))
  }

  func testKeras3NativeUnderCheckpointDependencies() throws {
    let contents = try readKerasWeightFile(path: fixturePath("tiny_checkpoint_deps.weights.h5"))
    XCTAssertEqual(contents.layout, .keras3Native)
    XCTAssertEqual(contents.layerOrder, ["conv1_bn", "conv1_conv", "predictions", "avg_pool", "input_layer"])
    assertSameWeights(contents.weights, try knownWeights("tiny_values.json"))
  }

  func testKeras3NativeWithoutLayerNames() throws {
    let contents = try readKerasWeightFile(path: fixturePath("tiny_unnamed.weights.h5"))
    XCTAssertTrue(contents.layerNamesAreClassGroups)
    XCTAssertEqual(Set(contents.weights.layers.keys), ["conv2d", "batch_normalization", "dense"])
    let layers = [
      ("input_layer", "InputLayer"), ("conv1_conv", "Conv2D"), ("conv1_bn", "BatchNormalization"),
      ("avg_pool", "GlobalAveragePooling2D"), ("predictions", "Dense"),
    ].map { (name: $0.0, className: $0.1) }
    assertSameWeights(
      namingClassGroups(contents.weights, layers: layers), try knownWeights("tiny_values.json"))
  }

  func testKerasSnakeCase() {
    let table = [
      "Conv2D": "conv2d", "BatchNormalization": "batch_normalization", "Dense": "dense",
      "GlobalAveragePooling2D": "global_average_pooling2d", "ZeroPadding2D": "zero_padding2d",
      "InputLayer": "input_layer", "MaxPooling2D": "max_pooling2d", "ReLU": "re_lu", "Add": "add",
    ]
    for (className, snake) in table { XCTAssertEqual(kerasSnakeCase(className), snake, className) }
  }

  func testKeras3LegacyWrittenByKeras() throws {
    let contents = try readKerasWeightFile(path: fixturePath("tiny_legacy.h5"))
    XCTAssertEqual(contents.layout, .keras3Legacy)
    XCTAssertEqual(contents.kerasVersion, "3.15.1")
    XCTAssertEqual(contents.layerOrder, tinyOrder)
    assertSameWeights(contents.weights, try knownWeights("tiny_values.json"))
  }

  func testWholeModelFileWrittenByKerasReadsModelWeights() throws {
    let contents = try readKerasWeightFile(path: fixturePath("tiny_model.h5"))
    XCTAssertEqual(contents.layerOrder, tinyOrder)
    assertSameWeights(contents.weights, try knownWeights("tiny_values.json"))
  }

  func testKeras1AndKeras2Layouts() throws {
    let keras1 = try readKerasWeightFile(path: fixturePath("keras1_tiny.h5"))
    XCTAssertEqual(keras1.layout, .keras1)
    XCTAssertNil(keras1.kerasVersion)
    assertSameWeights(keras1.weights, try knownWeights("tiny_values.json"))
    let keras2 = try readKerasWeightFile(path: fixturePath("keras2_tiny.h5"))
    XCTAssertEqual(keras2.layout, .keras2)
    XCTAssertEqual(keras2.kerasVersion, "2.2.4")
    assertSameWeights(keras2.weights, try knownWeights("tiny_values.json"))
  }

  func testOldResNetNamesChunkedListsUnderModelWeights() throws {
    let contents = try readKerasWeightFile(path: fixturePath("resnet_old_names.h5"))
    assertSameWeights(contents.weights, try knownWeights("resnet_old_names.json"))
    XCTAssertEqual(contents.renamedLayers["res2a_branch2a"], "conv2_block1_1_conv")
    XCTAssertEqual(contents.renamedLayers["bn4f_branch2b"], "conv4_block6_2_bn")
    XCTAssertEqual(contents.layerOrder.first, "conv1_conv")
    XCTAssertEqual(contents.layerOrder.count, 11)
  }

  func testOldNameTable() {
    let table = [
      "conv1": "conv1_conv", "bn_conv1": "conv1_bn", "res2a_branch2a": "conv2_block1_1_conv",
      "bn2a_branch2a": "conv2_block1_1_bn", "res3d_branch2b": "conv3_block4_2_conv",
      "res4f_branch2c": "conv4_block6_3_conv", "res5a_branch1": "conv5_block1_0_conv",
      "bn5c_branch2c": "conv5_block3_3_bn", "fc1000": "fc1000", "block1_conv1": "block1_conv1",
      "res6a_branch2a": "res6a_branch2a", "bn2g_branch2a": "bn2g_branch2a", "predictions": "predictions",
    ]
    for (old, current) in table { XCTAssertEqual(currentKerasLayerName(old), current, old) }
  }

  func testRolesFromWeightNames() {
    let table: [String: WeightKind?] = [
      "block1_conv1_W_1:0": .kernel, "block1_conv1_b_1:0": .bias, "bn_conv1_gamma_1:0": .gamma,
      "bn_conv1_beta_1:0": .beta, "bn_conv1_running_mean_1:0": .movingMean,
      "bn_conv1_running_std_1:0": .movingVariance, "conv1_W": .kernel,
      "conv1_conv/kernel:0": .kernel, "conv1_bn/moving_variance:0": .movingVariance,
      "conv1_conv/bias": .bias, "dense/param_0": nil,
    ]
    for (name, kind) in table { XCTAssertEqual(weightKind(fromWeightName: name), kind, name) }
  }

  func testWriterRoundTripsEveryLegacyLayout() throws {
    let weights = try knownWeights("tiny_values.json")
    for layout in [KerasWeightLayout.keras1, .keras2, .keras3Legacy] {
      let path = scratchPath("tiny-\(layout.rawValue).h5")
      try writeKerasWeights(weights, layerOrder: tinyOrder, to: path, layout: layout)
      let back = try readKerasWeightFile(path: path)
      XCTAssertEqual(back.layout, layout)
      XCTAssertEqual(back.layerOrder, tinyOrder)
      assertSameWeights(back.weights, weights)
    }
  }

  func testWriterRejectsInconsistentLayerOrder() throws {
    let weights = try knownWeights("tiny_values.json")
    let path = scratchPath("bad-order.h5")
    XCTAssertThrowsError(
      try writeKerasWeights(weights, layerOrder: ["conv1_conv", "conv1_bn"], to: path, layout: .keras2)
    ) { XCTAssertTrue("\($0)".contains("[\"predictions\"]"), "\($0)") }
    XCTAssertThrowsError(
      try writeKerasWeights(weights, layerOrder: tinyOrder + ["conv1_bn"], to: path, layout: .keras2)
    ) { XCTAssertTrue("\($0)".contains("`conv1_bn` appears twice"), "\($0)") }
    XCTAssertThrowsError(
      try writeKerasWeights(weights, layerOrder: tinyOrder, to: path, layout: .keras3Native))
  }

  func testWriterUsesKerasAttributeTypes() throws {
    let path = scratchPath("tiny-types.h5")
    try writeKerasWeights(
      try knownWeights("tiny_values.json"), layerOrder: tinyOrder, to: path, layout: .keras2)
    try HDF5File.withFile(path) { file in
      XCTAssertEqual(try file.attributeElementClass("layer_names"), .string(variable: false))
      XCTAssertEqual(try file.stringAttribute("keras_version"), "2.15.0")
      XCTAssertEqual(try file.stringAttribute("backend"), "tensorflow")
      let conv = try file.openGroup("conv1_conv")
      XCTAssertEqual(try conv.stringsAttribute("weight_names"), ["conv1_conv/kernel:0", "conv1_conv/bias:0"])
      XCTAssertTrue(try conv.exists("conv1_conv/kernel:0"))
      XCTAssertEqual(try file.openGroup("avg_pool").attributeElementClass("weight_names"), .float(bytes: 8))
    }
  }

  func testChunkedAttributesSplitLikeNumpy() throws {
    let path = scratchPath("chunked.h5")
    let names = (0..<7).map { "layer_\($0)" }
    try HDF5File.withNewFile(path) { file in
      try writeChunkedStrings(file, "layer_names", names, storage: .fixedBytes, limit: 30)
    }
    try HDF5File.withFile(path) { file in
      XCTAssertFalse(try file.hasAttribute("layer_names"))
      // 7 names x 7 bytes = 49 bytes > 30: two parts, 4 + 3 as numpy.array_split makes them.
      XCTAssertEqual(try file.stringsAttribute("layer_names0").count, 4)
      XCTAssertEqual(try file.stringsAttribute("layer_names1").count, 3)
      XCTAssertFalse(try file.hasAttribute("layer_names2"))
      XCTAssertEqual(try readChunkedStrings(file, "layer_names"), names)
    }
  }

  func testFileLevelErrorsNameTheFile() {
    XCTAssertThrowsError(try readKerasWeights(path: fixturePath("tiny_values.json"))) { error in
      let message = "\(error)"
      XCTAssertTrue(error is WeightFileError, message)
      XCTAssertTrue(message.contains("tiny_values.json") && message.contains("not an HDF5 file"), message)
    }
    XCTAssertThrowsError(try readKerasWeights(path: fixturePath("h5py_types.h5"))) { error in
      let message = "\(error)"
      XCTAssertTrue(message.contains("h5py_types.h5") && message.contains("layer_names"), message)
    }
    XCTAssertThrowsError(try readKerasWeights(path: "/nonexistent/weights.h5")) { error in
      XCTAssertTrue("\(error)".contains("/nonexistent/weights.h5"), "\(error)")
    }
  }
}

final class WeightBindingTests: XCTestCase {
  let specs = [
    ParameterSpec(layer: "conv1_conv", kind: .kernel, shape: [3, 3, 3, 4]),
    ParameterSpec(layer: "conv1_conv", kind: .bias, shape: [4]),
    ParameterSpec(layer: "conv1_bn", kind: .gamma, shape: [4]),
    ParameterSpec(layer: "conv1_bn", kind: .beta, shape: [4]),
    ParameterSpec(layer: "conv1_bn", kind: .movingMean, shape: [4]),
    ParameterSpec(layer: "conv1_bn", kind: .movingVariance, shape: [4]),
  ]

  func testBindsInSpecOrderAndReportsTheTop() throws {
    let weights = try readKerasWeights(path: fixturePath("tiny.weights.h5"))
    let (arrays, report) = try bindWeights(weights, to: specs)
    XCTAssertEqual(arrays.count, specs.count)
    XCTAssertEqual(arrays[1], weights.layers["conv1_conv"]![.bias])
    XCTAssertEqual(arrays[5], weights.layers["conv1_bn"]![.movingVariance])
    XCTAssertEqual(report.unusedLayers, ["predictions"])
    XCTAssertEqual(report.topClassifierLayers, ["predictions"])
    XCTAssertEqual(report.unexpectedLayers, [])
    XCTAssertTrue(report.summary.contains("top classifier (predictions)"), report.summary)
  }

  func testUnusedArraysAndLayersAreReported() throws {
    var weights = try readKerasWeights(path: fixturePath("tiny.weights.h5"))
    weights.layers["stray"] = [.kernel: WeightArray(shape: [1, 1], values: [0])]
    let (_, report) = try bindWeights(weights, to: Array(specs.dropLast()))
    XCTAssertEqual(report.unusedLayers, ["predictions", "stray"])
    XCTAssertEqual(report.unexpectedLayers, ["stray"])
    XCTAssertEqual(report.unusedArrays, ["conv1_bn/moving_variance"])
  }

  func testMissingLayerNamesLayerAndRole() throws {
    let weights = try readKerasWeights(path: fixturePath("tiny.weights.h5"))
    let needed = specs + [ParameterSpec(layer: "conv2_block1_1_conv", kind: .kernel, shape: [1, 1, 4, 4])]
    XCTAssertThrowsError(try bindWeights(weights, to: needed)) { error in
      XCTAssertEqual(
        error as? WeightBindingError,
        .missingLayer(layer: "conv2_block1_1_conv", kind: .kernel, storedLayers: 3))
      XCTAssertTrue("\(error)".contains("no layer `conv2_block1_1_conv`"), "\(error)")
    }
  }

  func testMissingArrayAndWrongShape() throws {
    var weights = try readKerasWeights(path: fixturePath("tiny.weights.h5"))
    var wrong = specs
    wrong[0].shape = [3, 3, 3, 8]
    XCTAssertThrowsError(try bindWeights(weights, to: wrong)) { error in
      let message = "\(error)"
      XCTAssertTrue(message.contains("`conv1_conv` kernel"), message)
      XCTAssertTrue(message.contains("[3, 3, 3, 4]") && message.contains("[3, 3, 3, 8]"), message)
    }
    weights.layers["conv1_conv"]![.bias] = nil
    XCTAssertThrowsError(try bindWeights(weights, to: specs)) { error in
      XCTAssertEqual(
        error as? WeightBindingError, .missingArray(layer: "conv1_conv", kind: .bias, stored: [.kernel]))
    }
  }
}
