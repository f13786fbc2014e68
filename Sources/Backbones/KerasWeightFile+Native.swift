// Keras 3's native `.weights.h5` layout:
//   /layers/<group>/vars/<0..n>        the layer's arrays in creation order
//   /layers/<group>/vars.attrs["name"] the Keras layer name (recent Keras 3 releases)
// Group names are derived from the layer class (`conv2d`, `batch_normalization_3`), so the
// layer name comes from the `name` attribute when present, else from the group name. Nested
// models nest `layers` groups; every group is walked. Arrays have no names: roles follow
// Keras' creation order (see `kindsByKerasOrder`).
import HDF5

func readNativeWeights(_ layers: HDF5Group, path: String) throws -> KerasWeightFileContents {
  var weights = KerasWeights()
  var order: [String] = []
  var renamed: [String: String] = [:]
  try walkNative(layers, path: path, weights: &weights, order: &order, renamed: &renamed)
  return KerasWeightFileContents(
    weights: weights, layout: .keras3Native, layerOrder: order, renamedLayers: renamed, kerasVersion: nil)
}

private func walkNative(
  _ group: HDF5Group, path: String, weights: inout KerasWeights, order: inout [String],
  renamed: inout [String: String]
) throws {
  for member in try group.memberNames() where try group.memberKind(member) == .group {
    let child = try group.openGroup(member)
    if try child.exists("vars"), try child.memberKind("vars") == .group {
      let vars = try child.openGroup("vars")
      let stored = try vars.hasAttribute("name") ? try vars.stringAttribute("name") : member
      let name = currentKerasLayerName(stored)
      if name != stored { renamed[stored] = name }
      guard !order.contains(name) else {
        throw WeightFileError(path: path, problem: "has two layers named `\(name)` (\(child.path))")
      }
      order.append(name)
      let indices = try vars.memberNames().compactMap(Int.init).sorted()
      if !indices.isEmpty {
        guard indices == Array(0..<indices.count) else {
          throw WeightFileError(
            path: path, problem: "layer `\(name)` has vars \(indices), expected 0..<\(indices.count)")
        }
        let arrays = try indices.map { index in
          let dataset = try vars.openDataset(String(index))
          return WeightArray(shape: try dataset.shape(), values: try dataset.readFloats())
        }
        let kinds = try assignKinds(names: nil, shapes: arrays.map(\.shape), layer: name, path: path)
        weights.layers[name] = Dictionary(uniqueKeysWithValues: zip(kinds, arrays))
      }
    }
    try walkNative(child, path: path, weights: &weights, order: &order, renamed: &renamed)
  }
}
