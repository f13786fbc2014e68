// The legacy HDF5 layout (Keras 1, Keras 2, Keras 3's legacy writer):
//   <root>.attrs["layer_names"]              fixed or variable-length byte strings
//   <root>/<layer>.attrs["weight_names"]     names of the layer's arrays, in Keras order
//   <root>/<layer>/<weight name>             the array; "a/b:0" names are nested groups
// <root> is the file root, or `model_weights` in a whole-model file.
import HDF5

func readLegacyWeights(_ root: HDF5Group, path: String) throws -> KerasWeightFileContents {
  guard let layerNames = try readChunkedStrings(root, "layer_names") else {
    throw WeightFileError(path: path, problem: "has no `layer_names` attribute")
  }
  var weights = KerasWeights()
  var order: [String] = []
  var renamed: [String: String] = [:]
  var storedNames: [String] = []
  for name in layerNames {
    guard try root.exists(name) else {
      throw WeightFileError(
        path: path, problem: "lists layer `\(name)` in layer_names but has no group for it")
    }
    let group = try root.openGroup(name)
    let weightNames = try readChunkedStrings(group, "weight_names") ?? []
    let current = currentKerasLayerName(name)
    if current != name { renamed[name] = current }
    guard !order.contains(current) else {
      throw WeightFileError(path: path, problem: "has two layers named `\(current)`")
    }
    order.append(current)
    storedNames += weightNames
    if weightNames.isEmpty { continue }
    var arrays: [WeightArray] = []
    for weightName in weightNames {
      guard try group.exists(weightName) else {
        throw WeightFileError(
          path: path, problem: "layer `\(name)` lists weight `\(weightName)` but has no dataset for it")
      }
      let dataset = try group.openDataset(weightName)
      arrays.append(WeightArray(shape: try dataset.shape(), values: try dataset.readFloats()))
    }
    let kinds = try assignKinds(
      names: weightNames, shapes: arrays.map(\.shape), layer: name, path: path)
    weights.layers[current] = Dictionary(uniqueKeysWithValues: zip(kinds, arrays))
  }
  let version = try root.hasAttribute("keras_version") ? try root.stringAttribute("keras_version") : nil
  return KerasWeightFileContents(
    weights: weights, layout: legacyLayout(weightNames: storedNames, kerasVersion: version),
    layerOrder: order, renamedLayers: renamed, kerasVersion: version)
}

/// The role of each array: from the names when every name says a distinct role, else from
/// Keras' creation order.
func assignKinds(names: [String]?, shapes: [[Int]], layer: String, path: String) throws -> [WeightKind] {
  if let names {
    let named = names.compactMap(weightKind(fromWeightName:))
    if named.count == names.count, Set(named).count == named.count { return named }
  }
  if let ordered = kindsByKerasOrder(shapes: shapes) { return ordered }
  let described = names.map { " named \($0)" } ?? ""
  throw WeightFileError(
    path: path,
    problem: "layer `\(layer)` stores \(shapes.count) arrays\(described) with shapes \(shapes) "
      + "whose roles cannot be told (expected kernel+bias or the four batch-norm vectors)")
}

/// Which generation wrote the names: Keras 1 names are flat (`conv1_W_1:0`), Keras 2 names
/// nest and end in `:0`, Keras 3's legacy writer drops the `:0`.
private func legacyLayout(weightNames: [String], kerasVersion: String?) -> KerasWeightLayout {
  guard let sample = weightNames.first else {
    if let kerasVersion, kerasVersion.hasPrefix("3") { return .keras3Legacy }
    return kerasVersion == nil || kerasVersion!.hasPrefix("1") ? .keras1 : .keras2
  }
  if !sample.contains("/") { return .keras1 }
  return sample.hasSuffix(":0") ? .keras2 : .keras3Legacy
}
