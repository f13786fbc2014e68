// Binding a weight file to a backbone, strictly: every parameter the backbone declares must be
// stored with exactly its shape; whatever the file stores beyond that is reported, with the
// ImageNet classifier on top (absent from include_top=False backbones) named as such.

/// A parameter the backbone needs that the weight file cannot provide.
public enum WeightBindingError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The file has no layer of this name.
  case missingLayer(layer: String, kind: WeightKind, storedLayers: Int)
  /// The layer exists but lacks this array.
  case missingArray(layer: String, kind: WeightKind, stored: [WeightKind])
  /// The array exists with another shape.
  case shapeMismatch(layer: String, kind: WeightKind, expected: [Int], actual: [Int])

  public var description: String {
    switch self {
    case .missingLayer(let layer, let kind, let count):
      return "the weight file has no layer `\(layer)` (needed for its \(kind.rawValue)); it stores \(count) "
        + "layers with weights: is it a weight file for this backbone?"
    case .missingArray(let layer, let kind, let stored):
      return "layer `\(layer)` in the weight file has no \(kind.rawValue) (it stores "
        + "\(stored.map(\.rawValue).joined(separator: ", ")))"
    case .shapeMismatch(let layer, let kind, let expected, let actual):
      return "layer `\(layer)` \(kind.rawValue) has shape \(actual) in the weight file, the backbone "
        + "expects \(expected) (channels-first 'th' weights, or another input/class count?)"
    }
  }
}

/// What binding left unused.
public struct WeightBindingReport: Sendable, Equatable {
  /// Layers with weights that no parameter used, sorted (includes `topClassifierLayers`).
  public var unusedLayers: [String]
  /// The unused layers that are the ImageNet classifier on top (`fc1000`, `predictions`,
  /// `fc1`, `fc2`): expected when the backbone is built without its top.
  public var topClassifierLayers: [String]
  /// Arrays of used layers that no parameter used, as "layer/role".
  public var unusedArrays: [String]

  /// Unused layers other than the top classifier: a sign of a weight file for another model.
  public var unexpectedLayers: [String] {
    unusedLayers.filter { !topClassifierLayers.contains($0) }
  }

  /// One line for logs.
  public var summary: String {
    var parts: [String] = []
    if !topClassifierLayers.isEmpty {
      parts.append("ignored the top classifier (\(topClassifierLayers.joined(separator: ", ")))")
    }
    if !unexpectedLayers.isEmpty {
      parts.append("unused layers: \(unexpectedLayers.joined(separator: ", "))")
    }
    if !unusedArrays.isEmpty { parts.append("unused arrays: \(unusedArrays.joined(separator: ", "))") }
    return parts.isEmpty ? "every stored weight was used" : parts.joined(separator: "; ")
  }
}

/// The classifier layer names of keras.applications models and the original ResNet50 release.
public let topClassifierLayerNames: Set<String> = ["fc1000", "predictions", "fc1", "fc2"]

/// Finds every spec's array in `weights`, in spec order, checking presence and shape.
public func bindWeights(
  _ weights: KerasWeights, to specs: [ParameterSpec]
) throws -> (arrays: [WeightArray], report: WeightBindingReport) {
  var arrays: [WeightArray] = []
  arrays.reserveCapacity(specs.count)
  var used: [String: Set<WeightKind>] = [:]
  let storedCount = weights.layers.values.filter { !$0.isEmpty }.count
  for spec in specs {
    guard let layer = weights.layers[spec.layer] else {
      throw WeightBindingError.missingLayer(layer: spec.layer, kind: spec.kind, storedLayers: storedCount)
    }
    guard let array = layer[spec.kind] else {
      let stored = WeightKind.allCases.filter { layer[$0] != nil }
      throw WeightBindingError.missingArray(layer: spec.layer, kind: spec.kind, stored: stored)
    }
    guard array.shape == spec.shape else {
      throw WeightBindingError.shapeMismatch(
        layer: spec.layer, kind: spec.kind, expected: spec.shape, actual: array.shape)
    }
    arrays.append(array)
    used[spec.layer, default: []].insert(spec.kind)
  }
  let unusedLayers = weights.layers.filter { !$0.value.isEmpty && used[$0.key] == nil }.keys.sorted()
  var unusedArrays: [String] = []
  for (layer, kinds) in used.sorted(by: { $0.key < $1.key }) {
    for kind in WeightKind.allCases where weights.layers[layer]?[kind] != nil && !kinds.contains(kind) {
      unusedArrays.append("\(layer)/\(kind.rawValue)")
    }
  }
  let report = WeightBindingReport(
    unusedLayers: unusedLayers, topClassifierLayers: unusedLayers.filter(topClassifierLayerNames.contains),
    unusedArrays: unusedArrays)
  return (arrays, report)
}

extension ParameterSpec: Hashable {
  public func hash(into hasher: inout Hasher) {
    hasher.combine(layer)
    hasher.combine(kind)
    hasher.combine(shape)
  }
}
