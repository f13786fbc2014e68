// What `predict` applies: a backbone with its weights and the heads trained on its features,
// plus the way those features were made (decoding, size, taps), read from the heads file's
// provenance and never re-specified. Heads only make sense on the features they were trained
// on, so every way the weights could differ from the provenance is refused before any image is
// read.
//
// The checks live here once and `finetune` uses them too (`readHeads`, `recipe`,
// `identifyWeights`): a fine-tuning run starts from the same heads file and weights.

import Backbones
import Extraction
import FeatureStore
import Foundation
import HDF5
import Heads
import ImageIO
import Support

/// A backbone and the heads trained on its features, ready to predict.
public struct PredictionModel {
  /// The heads, their class names, thresholds and label ranges, and the features' provenance.
  public let heads: HeadsFile
  /// The backbone, with the weights the heads' features were made with.
  public let backbone: Backbone
  /// The weights as loaded: file (or "random (seed N)") and SHA-256.
  public let weightsFile: String
  public let weightsSHA256: String
  /// Decoding and resizing, from the provenance (Pillow's decompression-bomb limit as `extract`'s default).
  public let loading: LoadOptions
  /// The taps whose pooled, L2-normalised features the heads read, in order.
  public let taps: [String]

  /// A model from heads and a backbone already loaded: from backbone weights plus a heads file
  /// today (`load(heads:weights:)`), from `finetune`'s model file later. Checks that the backbone
  /// is the one the heads' provenance names and that everything else recorded there can be
  /// reproduced; `source` names the heads in messages. The weights' identity is the caller's to
  /// check (`load` compares SHA-256 digests).
  public init(
    heads: HeadsFile, backbone: Backbone, weightsFile: String, weightsSHA256: String, source: String
  ) throws {
    let (kind, loading) = try Self.recipe(heads, source: source)
    guard backbone.kind == kind else {
      throw PredictError.usage(
        "\(source): the heads were trained on \(kind.rawValue) features, the backbone is \(backbone.kind.rawValue)")
    }
    self.heads = heads
    self.backbone = backbone
    self.weightsFile = weightsFile
    self.weightsSHA256 = weightsSHA256
    self.loading = loading
    self.taps = heads.provenance.taps
  }

  /// Reads the heads file at `headsPath` and loads `weights` for its backbone, refusing (as
  /// `PredictError.usage`) a heads file that cannot be read, provenance this version cannot
  /// reproduce, weights of another backbone, and weights whose SHA-256 differs from the one the
  /// heads' features were made with. Everything but the weights is checked before they are loaded.
  public static func load(heads headsPath: String, weights: WeightsChoice) throws -> PredictionModel {
    let heads = try readHeads(headsPath)
    let source = "--heads \(headsPath)"
    let (kind, _) = try recipe(heads, source: source)
    let identified = try identifyWeights(weights, kind: kind, provenance: heads.provenance, headsPath: headsPath)
    let loaded: LoadedWeights
    do {
      loaded = try loadWeights(
        identified.choice, kind: kind, sha256: identified.sha256.isEmpty ? nil : identified.sha256)
    } catch let error as ExtractError {
      throw PredictError.usage(error.description)
    }
    return try PredictionModel(
      heads: heads, backbone: loaded.backbone, weightsFile: loaded.file, weightsSHA256: loaded.sha256,
      source: source)
  }

  /// The backbone and the decoding the heads' features were made with; provenance this version
  /// cannot reproduce (another backbone, filter, preprocessing, taps of other widths) is refused.
  public static func recipe(_ heads: HeadsFile, source: String) throws -> (BackboneKind, LoadOptions) {
    let provenance = heads.provenance
    guard let kind = BackboneKind(rawValue: provenance.backbone) else {
      throw PredictError.usage(
        "\(source): the features were made with backbone '\(provenance.backbone)', which this version does not "
          + "have (it has: \(BackboneKind.allCases.map(\.rawValue).joined(separator: ", ")))")
    }
    let loading = try loadOptions(provenance, source: source)
    let widths: [Int]
    do {
      widths = try kind.resolveTaps(provenance.taps).map {
        try kind.outputShape(ofTap: $0, height: provenance.height, width: provenance.width).channels
      }
    } catch {
      throw PredictError.usage("\(source): taps \(provenance.taps): \(error)")
    }
    guard widths == provenance.tapWidths, widths.reduce(0, +) == heads.inputWidth else {
      throw PredictError.usage(
        "\(source): taps \(provenance.taps) are \(widths) wide in \(kind.rawValue), the heads file says "
          + "\(provenance.tapWidths)")
    }
    return (kind, loading)
  }

  /// The heads file at `path`; one that cannot be read is refused (`PredictError.usage`).
  public static func readHeads(_ path: String) throws -> HeadsFile {
    guard FileManager.default.isReadableFile(atPath: path) else {
      throw PredictError.usage("--heads \(path): no such readable file")
    }
    do {
      return try HeadsFile.read(path: path)
    } catch let error as HeadsFileError {
      throw PredictError.usage("--heads \(error.path): \(error.problem)")
    } catch let error as HDF5ChecksumError {
      throw PredictError.usage("--heads \(path): \(error.problem)")
    } catch {
      throw PredictError.usage("--heads \(path): cannot be read as a heads file (\(error))")
    }
  }

  /// The decoding the features were made with; anything this version cannot reproduce is refused.
  private static func loadOptions(_ provenance: FeatureFileAttributes, source: String) throws -> LoadOptions {
    func refuse(_ what: String, _ value: String, _ known: [String]) -> PredictError {
      .usage(
        "\(source): the features were made with \(what) '\(value)', which this version cannot "
          + "reproduce (it knows: \(known.joined(separator: ", ")))")
    }
    guard let interpolation = Interpolation(rawValue: provenance.interpolation) else {
      throw refuse("interpolation", provenance.interpolation, Interpolation.allCases.map(\.rawValue))
    }
    guard let exif = ExifMode(rawValue: provenance.exif) else {
      throw refuse("exif", provenance.exif, ExifMode.allCases.map(\.rawValue))
    }
    guard provenance.preprocessing == "caffe" else {
      throw refuse("preprocessing", provenance.preprocessing, ["caffe"])
    }
    guard provenance.normalization == "l2 per tap" else {
      throw refuse("normalization", provenance.normalization, ["l2 per tap"])
    }
    let backbone = BackboneKind(rawValue: provenance.backbone) ?? .resnet50
    do {
      try backbone.checkInputSize(height: provenance.height, width: provenance.width)
    } catch {
      throw PredictError.usage("\(source): \(error)")
    }
    return LoadOptions(
      height: provenance.height, width: provenance.width, interpolation: interpolation, exif: exif,
      maxPixels: defaultMaxPixels)
  }

  /// The weights the heads' features were made with, identified before anything is loaded: the
  /// file (Keras' default location resolved) and its SHA-256, or random weights with the seed the
  /// provenance records. Weights of another backbone, other bytes or another seed are refused
  /// (`PredictError.usage`), since the heads would see features they were never trained on.
  public static func identifyWeights(
    _ weights: WeightsChoice, kind: BackboneKind, provenance: FeatureFileAttributes, headsPath: String
  ) throws -> IdentifiedWeights {
    let recordedSeed = randomSeed(provenance)
    let choice: WeightsChoice
    switch weights {
    case .random(let seed):
      guard let recordedSeed else {
        throw PredictError.usage(
          "--weights random: the heads in \(headsPath) were trained on features of \(provenance.weightsFile) "
            + "(SHA-256 \(provenance.weightsSHA256.prefix(12))); random weights would give other features, "
            + "pass that file")
      }
      if let seed, seed != recordedSeed {
        throw PredictError.usage(
          "--seed \(seed): the heads in \(headsPath) were trained on random weights with seed \(recordedSeed); "
            + "another seed would give other features")
      }
      choice = .random(seed: recordedSeed)
    case .kerasDefault: choice = .kerasDefault
    case .file(let path): choice = .file(path)
    }
    do {
      guard let path = try weightsPath(choice, kind: kind) else {
        return IdentifiedWeights(choice: choice, file: "random (seed \(recordedSeed ?? 0))", sha256: "")
      }
      // Which backbone the file holds first: cheap (no hashing, no binding), and the clearest
      // message when it is another one.
      let fitting = backbones(fitting: path)
      if !fitting.contains(kind), let other = fitting.first {
        throw PredictError.usage(
          "--weights \(path) holds \(other.rawValue) weights, but the heads in \(headsPath) were trained on "
            + "\(kind.rawValue) features; pass the \(kind.rawValue) weights the features were made with")
      }
      // The digest decides, whatever the file holds: other bytes, other features.
      let digest = try SHA256.hexDigest(ofFile: path)
      guard digest == provenance.weightsSHA256 else {
        let recorded =
          provenance.weightsSHA256.isEmpty
          ? provenance.weightsFile : "SHA-256 \(provenance.weightsSHA256.prefix(12))"
        throw PredictError.usage(
          "--weights \(path) (SHA-256 \(digest.prefix(12))) is not what the heads in \(headsPath) were trained "
            + "on (\(recorded)): its features would differ and the predictions would be meaningless; pass the "
            + "weights the features were made with")
      }
      return IdentifiedWeights(choice: .file(path), file: path, sha256: digest)
    } catch let error as ExtractError {
      throw PredictError.usage(error.description)
    } catch let error as PredictError {
      throw error
    } catch {
      throw PredictError.usage("--weights: \(error)")
    }
  }

  /// The seed of `extract`'s random weights when the provenance records them ("random (seed N)").
  static func randomSeed(_ provenance: FeatureFileAttributes) -> UInt32? {
    let file = provenance.weightsFile
    guard provenance.weightsSHA256.isEmpty, file.hasPrefix("random (seed "), file.hasSuffix(")") else {
      return nil
    }
    return UInt32(file.dropFirst("random (seed ".count).dropLast())
  }

  /// The backbones whose weights the file at `path` holds (none when it is no readable weight file).
  private static func backbones(fitting path: String) -> [BackboneKind] {
    guard let contents = try? readKerasWeightFile(path: path) else { return [] }
    return BackboneKind.allCases.filter { kind in
      var weights = contents.weights
      if contents.layerNamesAreClassGroups { weights = namingClassGroups(weights, layers: kind.kerasLayers) }
      return (try? kind.validateWeights(weights)) != nil
    }
  }
}

/// Weights identified and checked against a heads file, not yet loaded.
public struct IdentifiedWeights: Sendable {
  /// The choice with the seed and file resolved (`.random(seed:)` with the recorded seed, or `.file`).
  public var choice: WeightsChoice
  /// The file, or "random (seed N)", as feature and heads files record it.
  public var file: String
  /// Hex SHA-256 of the file; empty for random weights.
  public var sha256: String
}
