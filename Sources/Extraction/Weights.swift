// Finding and loading the backbone's weights as a Keras user has them.

import Backbones
import Foundation
import HDF5
import Support

extension BackboneKind {
  /// The file name Keras gives the ImageNet weights without the classifier.
  public var kerasWeightsFileName: String {
    switch self {
    case .resnet50: return "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    case .vgg16: return "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    case .vgg19: return "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
    }
  }

  /// The Keras constructor that downloads those weights, for the help and error messages.
  var kerasConstructor: String {
    switch self {
    case .resnet50: return "keras.applications.ResNet50"
    case .vgg16: return "keras.applications.VGG16"
    case .vgg19: return "keras.applications.VGG19"
    }
  }
}

/// Keras' model cache: `$KERAS_HOME/models`, else `~/.keras/models`.
public func kerasModelsDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
  if let home = environment["KERAS_HOME"], !home.isEmpty { return home + "/models" }
  let user = environment["HOME"] ?? NSHomeDirectory()
  return user + "/.keras/models"
}

/// The weights a run will use, loaded and checked, with what the feature file records of them.
public struct LoadedWeights {
  public var backbone: Backbone
  /// The file as given, or "random (seed N)" (what the feature file's `weights_file` records).
  public var file: String
  /// Hex SHA-256 of the file's bytes; empty for random weights.
  public var sha256: String
  /// Present for random weights: the features are meaningless for real use.
  public var warning: String?
  /// What the file stores that the backbone does not use (e.g. the ImageNet classifier).
  public var report: WeightBindingReport?
}

/// The file a weights choice names (Keras' default location resolved), checked to be readable;
/// nil for random weights. Problems are `.usage` errors.
public func weightsPath(_ choice: WeightsChoice, kind: BackboneKind) throws -> String? {
  let path: String
  switch choice {
  case .random: return nil
  case .kerasDefault:
    path = kerasModelsDirectory() + "/" + kind.kerasWeightsFileName
    guard FileManager.default.fileExists(atPath: path) else {
      throw ExtractError.usage(
        "no \(kind.rawValue) weights at \(path); Keras downloads this file on the first call of "
          + "\(kind.kerasConstructor)(weights='imagenet', include_top=False) — copy it there, pass "
          + "--weights FILE, or --weights random for an experiment")
    }
  case .file(let given):
    path = given
  }
  guard FileManager.default.isReadableFile(atPath: path) else {
    throw ExtractError.usage("--weights \(path): no such readable file")
  }
  return path
}

/// Resolves the weights choice to a file, hashes it and builds the backbone. Every problem is a
/// `.usage` error: the run has not started, nothing is written. `predict` loads its weights
/// through this too, so both tools record and hash them the same way; a caller that has hashed
/// the file already passes the digest as `sha256`.
public func loadWeights(_ choice: WeightsChoice, kind: BackboneKind, sha256 knownDigest: String? = nil) throws
  -> LoadedWeights
{
  if case .random(let given) = choice {
    let seed = given ?? 0
    let weights = SyntheticWeights.make(kind, seed: seed)
    let backbone = try Backbone(kind: kind, weights: weights)
    return LoadedWeights(
      backbone: backbone, file: "random (seed \(seed))", sha256: "",
      warning: "RANDOM WEIGHTS (seed \(seed)): not ImageNet features; they measure colour and contrast and "
        + "recognise nothing (Keras' ImageNet files belong in ~/.keras/models)",
      report: nil)
  }
  let path = try weightsPath(choice, kind: kind)!
  // The file's digest (ResNet50's 95 MB: about 0.45 s on one core) is computed on another thread
  // while the file is read and packed, so it costs no start-up time.
  nonisolated(unsafe) var digest: Result<String, any Error>?
  let hashing = DispatchGroup()
  if knownDigest == nil {
    DispatchQueue.global().async(group: hashing) { digest = Result { try SHA256.hexDigest(ofFile: path) } }
  }
  defer { hashing.wait() }
  var weights: KerasWeights
  do {
    let contents = try readKerasWeightFile(path: path)
    weights = contents.weights
    if contents.layerNamesAreClassGroups {
      // An early Keras 3 native file keys layers by class group (`conv2d_3`); the model's layer
      // list gives them back their names before validation.
      weights = namingClassGroups(weights, layers: kind.kerasLayers)
    }
  } catch let error as HDF5ChecksumError {
    throw ExtractError.usage("--weights \(path): \(error.problem)")
  } catch {
    throw ExtractError.usage("--weights \(path): \(error)")
  }
  let backbone: Backbone
  let report: WeightBindingReport
  do {
    report = try kind.validateWeights(weights)
    backbone = try Backbone(kind: kind, weights: weights)
  } catch {
    throw ExtractError.usage("--weights \(path): \(error)")
  }
  hashing.wait()
  return LoadedWeights(
    backbone: backbone, file: path, sha256: try knownDigest ?? digest!.get(), warning: nil, report: report)
}
