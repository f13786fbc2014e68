// Reading Keras weight files of every on-disk generation into `KerasWeights`.
//
// Two layouts exist:
// * legacy HDF5 (Keras 1, Keras 2, and Keras 3's legacy writer): the root (or the
//   `model_weights` group of a whole-model file) lists its layers in the attribute
//   `layer_names`; each layer group lists its arrays in `weight_names`. Either list may be
//   split into `layer_names0`, `layer_names1`, ... when too big for one HDF5 attribute.
//   See KerasWeightFile+Legacy.swift.
// * Keras 3 native `.weights.h5`: `layers/<group>/vars/0..n`, arrays by position only.
//   See KerasWeightFile+Native.swift.
// Layer names of the original ResNet50 release (`res2a_branch2a`) are mapped to today's
// (`conv2_block1_1_conv`), see KerasWeightFile+Names.swift. Arrays keep Keras' layout (HWIO).
import HDF5

/// A weight file that cannot be used, with what is wrong with it.
public struct WeightFileError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The weight file.
  public var path: String
  /// What is wrong, phrased to follow the file name.
  public var problem: String

  public init(path: String, problem: String) {
    self.path = path
    self.problem = problem
  }

  public var description: String { "weight file \(path): \(problem)" }
}

/// The on-disk generations of Keras weight files.
public enum KerasWeightLayout: String, Sendable, CaseIterable {
  /// Keras 1: flat dataset names such as `conv1_W_1:0`, BN variance named `running_std`.
  case keras1
  /// Keras 2 (and tf.keras): `conv1_conv/kernel:0`, stored as nested groups.
  case keras2
  /// Keras 3's legacy HDF5 writer: `conv1_conv/kernel`, no `:0`.
  case keras3Legacy
  /// Keras 3's native `.weights.h5`: `layers/<group>/vars/<index>`.
  case keras3Native
}

/// Everything read from a weight file.
public struct KerasWeightFileContents: Sendable {
  /// The arrays, by current Keras layer name.
  public var weights: KerasWeights
  /// The layout the file was written in.
  public var layout: KerasWeightLayout
  /// The layers in file order (current names), including layers without weights: model order
  /// for legacy files, group-name order for native ones.
  public var layerOrder: [String]
  /// Old layer names that were renamed, old name to current name (`bn_conv1` to `conv1_bn`).
  public var renamedLayers: [String: String]
  /// The `keras_version` root attribute, when the file has one.
  public var kerasVersion: String?
  /// True for Keras 3 native files written before Keras stored layer names: their layers are
  /// keyed by class-derived group names (`conv2d_3`); see `namingClassGroups(_:layers:)`.
  public var layerNamesAreClassGroups: Bool = false
}

/// Reads the weight file at `path` into `KerasWeights`, keyed by current Keras layer names.
public func readKerasWeights(path: String) throws -> KerasWeights {
  try readKerasWeightFile(path: path).weights
}

/// Reads the weight file at `path`, with what was learnt about its layout.
public func readKerasWeightFile(path: String) throws -> KerasWeightFileContents {
  do {
    return try HDF5File.withFile(path) { file in
      if let root = try legacyRoot(of: file) {
        return try readLegacyWeights(root, path: path)
      }
      if try hasNativeLayout(file) {
        return try readNativeWeights(file, path: path)
      }
      throw WeightFileError(
        path: path,
        problem: "is an HDF5 file but not a Keras weight file: it has no `layer_names` attribute "
          + "(Keras 1/2 layout, at the root or under `model_weights`) and no `layers` group "
          + "(Keras 3 .weights.h5)")
    }
  } catch let error as WeightFileError {
    throw error
  } catch let error as HDF5Error {
    if error.operation == "open file" {
      throw WeightFileError(path: path, problem: "cannot be opened: \(error.reason)")
    }
    throw WeightFileError(path: path, problem: "cannot be read: \(error)")
  }
}

/// The group that holds a legacy file's layers: the root, or `model_weights` in files written
/// by `model.save` (whole model: config and weights).
private func legacyRoot(of file: HDF5File) throws -> HDF5Group? {
  if try hasChunkedAttribute(file, "layer_names") { return file }
  if try file.exists("model_weights") {
    let group = try file.openGroup("model_weights")
    if try hasChunkedAttribute(group, "layer_names") { return group }
  }
  return nil
}

/// Whether `name` or its split form `name0` exists.
func hasChunkedAttribute(_ object: HDF5Location, _ name: String) throws -> Bool {
  try object.hasAttribute(name) || object.hasAttribute(name + "0")
}

/// Reads a string list attribute that Keras may have split into `name0`, `name1`, ... because
/// an HDF5 object header holds at most 64 KB of attributes.
func readChunkedStrings(_ object: HDF5Location, _ name: String) throws -> [String]? {
  if try object.hasAttribute(name) { return try object.stringsAttribute(name) }
  var strings: [String] = []
  var index = 0
  while try object.hasAttribute("\(name)\(index)") {
    strings += try object.stringsAttribute("\(name)\(index)")
    index += 1
  }
  return index == 0 ? nil : strings
}
