// Keras 3's native `.weights.h5` layout:
//   /layers/<group>/vars/<0..n>        the layer's arrays in creation order
//   /layers/<group>/vars.attrs["name"] the Keras layer name (recent Keras 3 releases)
// Group names are derived from the layer class and its rank among same-class layers in
// `model.layers` order, weightless layers counted (`conv2d`, `conv2d_1`, ..., `add_3`; checked
// on ResNet50, VGG16 and VGG19 with Keras 3.15.1, Tests/Fixtures/weights/native_groups.json),
// so the layer name comes from the `name` attribute when present. Files from Keras 3 releases
// that did not store it keep the group names as layer names; `namingClassGroups(_:layers:)`
// renames them given the model's layers and classes (`BackboneKind.kerasLayers`). Nested
// models nest `layers` groups; every group is walked. Arrays have no names: roles follow
// Keras' creation order (see `kindsByKerasOrder`).
import HDF5

/// The top-level groups under which Keras 3 stores a model's layers: `layers` for Functional
/// and Sequential models, `_layer_checkpoint_dependencies` in some early Keras 3 files.
let nativeLayerRoots = ["layers", "_layer_checkpoint_dependencies"]

/// Whether `file` has the native layout.
func hasNativeLayout(_ file: HDF5File) throws -> Bool {
  for root in nativeLayerRoots where try file.exists(root) && file.memberKind(root) == .group {
    return true
  }
  return false
}

func readNativeWeights(_ file: HDF5File, path: String) throws -> KerasWeightFileContents {
  var walk = NativeWalk(path: path)
  for root in nativeLayerRoots where try file.exists(root) && file.memberKind(root) == .group {
    try walk.visit(try file.openGroup(root))
  }
  return KerasWeightFileContents(
    weights: walk.weights, layout: .keras3Native, layerOrder: walk.order, renamedLayers: walk.renamed,
    kerasVersion: nil, layerNamesAreClassGroups: walk.unnamed)
}

/// Collects the layers of a native file, depth first in name order.
private struct NativeWalk {
  let path: String
  var weights = KerasWeights()
  var order: [String] = []
  var renamed: [String: String] = [:]
  var unnamed = false

  init(path: String) { self.path = path }

  mutating func visit(_ group: HDF5Group) throws {
    for member in try group.memberNames() where try group.memberKind(member) == .group {
      let child = try group.openGroup(member)
      if try child.exists("vars"), try child.memberKind("vars") == .group {
        try readLayer(try child.openGroup("vars"), group: member)
      }
      try visit(child)
    }
  }

  private mutating func readLayer(_ vars: HDF5Group, group: String) throws {
    let hasName = try vars.hasAttribute("name")
    if !hasName { unnamed = true }
    let stored = hasName ? try vars.stringAttribute("name") : group
    let name = currentKerasLayerName(stored)
    if name != stored { renamed[stored] = name }
    let indices = try vars.memberNames().compactMap(Int.init).sorted()
    guard indices == Array(0..<indices.count) else {
      throw WeightFileError(
        path: path, problem: "layer `\(name)` has vars \(indices), expected 0..<\(indices.count)")
    }
    let arrays = try indices.map { index in
      let dataset = try vars.openDataset(String(index))
      return WeightArray(shape: try dataset.shape(), values: try dataset.readFloats())
    }
    let kinds =
      arrays.isEmpty ? [] : try assignKinds(names: nil, shapes: arrays.map(\.shape), layer: name, path: path)
    let layer = Dictionary(uniqueKeysWithValues: zip(kinds, arrays))
    if order.contains(name) {
      // The same layer reached through a second root (early Keras 3 files) is fine; two
      // different layers of one name are not.
      guard weights.layers[name, default: [:]] == layer else {
        throw WeightFileError(path: path, problem: "has two different layers named `\(name)` (\(vars.path))")
      }
      return
    }
    order.append(name)
    if !layer.isEmpty { weights.layers[name] = layer }
  }
}

/// Keras' `naming.to_snake_case` of a layer class name, the base of its group name in native
/// files: "Conv2D" -> "conv2d", "BatchNormalization" -> "batch_normalization".
public func kerasSnakeCase(_ className: String) -> String {
  // Keras: re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name), then re.sub("([a-z])([A-Z])", r"\1_\2"),
  // then non-word characters dropped, lower-cased. The first pass is written as "before an
  // upper-case letter followed by a lower-case one"; the second pass covers the cases where
  // the regex would have skipped a match.
  let chars = Array(className)
  var firstPass: [Character] = []
  for (i, c) in chars.enumerated() {
    if i > 0, c.isUppercase, i + 1 < chars.count, chars[i + 1].isLowercase { firstPass.append("_") }
    firstPass.append(c)
  }
  var secondPass: [Character] = []
  for (i, c) in firstPass.enumerated() {
    if i > 0, c.isUppercase, firstPass[i - 1].isLowercase { secondPass.append("_") }
    secondPass.append(c)
  }
  return String(secondPass.filter { $0.isLetter || $0.isNumber || $0 == "_" }).lowercased()
}

/// Renames the class-named groups of an old Keras 3 native file (`conv2d_3`) to layer names,
/// given every layer of the model in `model.layers` order with its Keras class name
/// (`("conv1_conv", "Conv2D")`). Layers already present under their own name are left alone.
public func namingClassGroups(_ weights: KerasWeights, layers: [(name: String, className: String)])
  -> KerasWeights
{
  var renamed = weights
  var counts: [String: Int] = [:]
  for (name, className) in layers {
    let base = kerasSnakeCase(className)
    let rank = counts[base, default: 0]
    counts[base] = rank + 1
    let group = rank == 0 ? base : "\(base)_\(rank)"
    guard group != name, weights.layers[name] == nil, let arrays = weights.layers[group] else { continue }
    renamed.layers[name] = arrays
    renamed.layers[group] = nil
  }
  return renamed
}
