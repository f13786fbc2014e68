// Writing `KerasWeights` in Keras' own legacy HDF5 layouts, attribute types included, so Keras
// loads them with `model.load_weights(path)`:
//   keras2        root attrs layer_names (fixed-length bytes), backend, keras_version;
//                 per layer attr weight_names; arrays at "<layer>/<role>:0" (nested groups)
//   keras3Legacy  as Keras 3's legacy writer: variable-length byte strings, "<layer>/<role>"
//   keras1        flat names "<layer>_W_1:0" etc., BN variance as "running_std", no
//                 keras_version attribute (Keras 2 reads its absence as "written by Keras 1")
// Arrays are written in Keras' creation order: kernel, bias / gamma, beta, moving_mean,
// moving_variance. The native Keras 3 layout is not written: its group names come from layer
// classes, which weights alone do not know.
import HDF5

/// The version strings written into legacy files' `keras_version` attribute.
private func kerasVersion(for layout: KerasWeightLayout) -> String? {
  switch layout {
  case .keras1, .keras3Native: return nil
  case .keras2: return "2.15.0"
  case .keras3Legacy: return "3.0.0"
  }
}

/// Writes `weights` to `path` in `layout`. `layerOrder` lists every layer of the model in
/// Keras order (layers without weights get an empty `weight_names`, as Keras writes them) and
/// must include every layer of `weights`.
public func writeKerasWeights(
  _ weights: KerasWeights, layerOrder: [String], to path: String, layout: KerasWeightLayout
) throws {
  if layout == .keras3Native {
    throw WeightFileError(
      path: path, problem: "cannot be written in the Keras 3 native layout; write keras2, which Keras 3 loads"
    )
  }
  var seen: Set<String> = []
  if let repeated = layerOrder.first(where: { !seen.insert($0).inserted }) {
    throw WeightFileError(
      path: path, problem: "cannot be written: layer `\(repeated)` appears twice in the layer order")
  }
  let missing = Set(weights.layers.keys).subtracting(layerOrder).sorted()
  guard missing.isEmpty else {
    throw WeightFileError(
      path: path, problem: "layers \(missing) have weights but are not in the layer order")
  }
  let strings: HDF5StringStorage = layout == .keras3Legacy ? .variableASCII : .fixedBytes
  try HDF5File.withNewFile(path) { file in
    try writeChunkedStrings(file, "layer_names", layerOrder, storage: strings)
    if let version = kerasVersion(for: layout) {
      try file.setAttribute("backend", string: "tensorflow", storage: strings)
      try file.setAttribute("keras_version", string: version, storage: strings)
    }
    for layer in layerOrder {
      let group = try file.createGroup(layer)
      let stored = WeightKind.allCases.compactMap { kind in weights.layers[layer]?[kind].map { (kind, $0) } }
      let names = stored.map { storedWeightName(layer: layer, kind: $0.0, layout: layout) }
      if names.isEmpty {
        try group.setAttribute("weight_names", doubles: [])  // numpy's empty array is float64
      } else {
        try writeChunkedStrings(group, "weight_names", names, storage: strings)
      }
      for (name, (_, array)) in zip(names, stored) {
        try group.createDataset(name, floats: array.values, shape: array.shape)
      }
    }
  }
}

/// The dataset name of one array, as each Keras generation named it.
func storedWeightName(layer: String, kind: WeightKind, layout: KerasWeightLayout) -> String {
  switch layout {
  case .keras1:
    let keras1: [WeightKind: String] = [
      .kernel: "W", .bias: "b", .gamma: "gamma", .beta: "beta",
      .movingMean: "running_mean", .movingVariance: "running_std",
    ]
    return "\(layer)_\(keras1[kind]!)_1:0"
  case .keras2: return "\(layer)/\(kind.rawValue):0"
  case .keras3Legacy, .keras3Native: return "\(layer)/\(kind.rawValue)"
  }
}

/// Keras' limit on one attribute's data (HDF5 object headers hold 64 KB); longer lists are
/// split over `name0`, `name1`, ... in as many nearly equal parts as needed.
let hdf5AttributeLimit = 64512

/// Writes a string list as Keras does: one attribute, or numbered parts when too large.
func writeChunkedStrings(
  _ object: HDF5Location, _ name: String, _ strings: [String], storage: HDF5StringStorage,
  limit: Int = hdf5AttributeLimit
) throws {
  // numpy's 'S' array takes count x longest bytes; the object-array case is sized the same way
  // here, which only makes splitting a little earlier.
  let longest = strings.map { $0.utf8.count }.max() ?? 1
  let bytes = strings.count * longest
  guard bytes > limit else {
    try object.setAttribute(name, strings: strings, storage: storage)
    return
  }
  var parts = (bytes + limit - 1) / limit
  while strings.count * longest / parts > limit { parts += 1 }
  // numpy.array_split: the first (count % parts) parts get one extra element.
  let base = strings.count / parts
  let extra = strings.count % parts
  var start = 0
  for part in 0..<parts {
    let size = base + (part < extra ? 1 : 0)
    try object.setAttribute(
      "\(name)\(part)", strings: Array(strings[start..<(start + size)]), storage: storage)
    start += size
  }
}
