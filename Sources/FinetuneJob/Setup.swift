// What a fine-tuning run starts from: the heads file (its provenance decides backbone, decoding,
// size and taps, as for `predict`), the backbone's raw Keras weights (the trained block is built
// from them and the export writes them back), and each head's targets read from the images'
// labels by the columns and class names the heads file stores.

import Backbones
import Extraction
import FeatureStore
import Finetuning
import Fitting
import Foundation
import HDF5
import Heads
import ImageIO
import Predicting

/// A failure with its exit code: 2 for input the user must fix (nothing written), 1 otherwise.
public struct FinetuneFailure: Error, CustomStringConvertible {
  public var description: String
  public var exitCode: Int32
  static func usage(_ message: String) -> FinetuneFailure { FinetuneFailure(description: message, exitCode: 2) }
}

/// The heads file and the recipe it records, checked against what fine-tuning can train.
struct Recipe {
  var heads: HeadsFile
  var kind: BackboneKind
  var loading: LoadOptions
  /// The heads' input row: the block's output tap, and the taps before the block.
  var row: FeatureRow

  /// Each head that reads only taps before the trained block, with those taps: its input is
  /// fixed (the frozen prefix's features), only its own weights train.
  var fixedInputHeads: [(head: String, taps: [String])] {
    heads.specs.compactMap { spec in row.fixedTaps(readBy: spec).map { (spec.name, $0) } }
  }
}

/// The heads file and its recipe, checked as predict checks them (readable, provenance this
/// version reproduces, taps of the widths the heads read), then for what fine-tuning can train.
func readRecipe(headsPath: String) throws -> Recipe {
  let heads: HeadsFile
  let kind: BackboneKind
  let loading: LoadOptions
  do {
    heads = try PredictionModel.readHeads(headsPath)
    (kind, loading) = try PredictionModel.recipe(heads, source: "--heads \(headsPath)")
  } catch let error as PredictError {
    throw FinetuneFailure.usage(error.description)
  }
  let p = heads.provenance
  // The trainers compute the pooled output of the block they train; taps before the block come
  // from the frozen prefix as fixed features; a tap inside the block is neither (FeatureRow).
  let row: FeatureRow
  do {
    // recipe() checked that the widths recorded are the resolved taps' widths.
    row = try FeatureRow(kind, taps: try kind.resolveTaps(p.taps), widths: p.tapWidths)
  } catch {
    throw FinetuneFailure.usage("--heads \(headsPath): \(error)")
  }
  return Recipe(heads: heads, kind: kind, loading: loading, row: row)
}

/// The last block's layers that `--unfreeze` names for `kind`; a name that trains nothing is
/// refused (exit 2), and so is `--bn train` with part of the block frozen: Keras runs a frozen
/// batch norm in inference mode, which the trainer's one batch-norm mode cannot mix.
func unfrozenLayers(_ argument: String, kind: BackboneKind, bn: String) throws -> Set<String> {
  let names = argument.split(separator: ",", omittingEmptySubsequences: false).map {
    $0.trimmingCharacters(in: .whitespaces)
  }
  let layers: Set<String>
  do {
    layers = try LastBlock.unfrozenLayers(kind, names: names.filter { !$0.isEmpty })
  } catch {
    throw FinetuneFailure.usage(error.description)
  }
  if bn == "train", layers.count < LastBlock.layerNames(kind).count {
    throw FinetuneFailure.usage(
      "--bn train with --unfreeze \(argument): batch statistics need the whole last block training "
        + "(use --unfreeze last, or keep the default --bn frozen-statistics)")
  }
  return layers
}

/// The backbone's weights as identified before loading (file, SHA-256), refused (exit 2) when
/// they are not the weights the heads' features were made with, since the heads would then start
/// from features they never saw; `load()` reads the arrays.
struct StartWeights {
  var identified: IdentifiedWeights
  var kind: BackboneKind
  var file: String { identified.file }
  var sha256: String { identified.sha256 }

  /// The raw Keras arrays (the trained block is built from them, the export writes them back).
  func load() throws -> KerasWeights {
    if case .random(let seed) = identified.choice { return SyntheticWeights.make(kind, seed: seed ?? 0) }
    do {
      let contents = try readKerasWeightFile(path: file)
      var weights = contents.weights
      if contents.layerNamesAreClassGroups { weights = namingClassGroups(weights, layers: kind.kerasLayers) }
      _ = try kind.validateWeights(weights)
      return weights
    } catch let error as HDF5ChecksumError {
      throw FinetuneFailure.usage("--weights \(file): \(error.problem)")
    } catch {
      throw FinetuneFailure.usage("--weights \(file): \(error)")
    }
  }
}

/// The weights the run starts from, checked against the heads file as predict checks them.
func identifyStartWeights(_ choice: WeightsChoice, recipe: Recipe, headsPath: String) throws -> StartWeights {
  do {
    let identified = try PredictionModel.identifyWeights(
      choice, kind: recipe.kind, provenance: recipe.heads.provenance, headsPath: headsPath)
    return StartWeights(identified: identified, kind: recipe.kind)
  } catch let error as PredictError {
    throw FinetuneFailure.usage(error.description)
  }
}

/// Each head's targets over the dataset's rows, from the column the heads file names; a column
/// that is missing, of the wrong type, or holding classes the head does not know is refused.
func headTargets(_ heads: HeadsFile, labels: [LabelColumn]) throws -> [HeadTargets] {
  try heads.specs.map { spec in
    let columnName = heads.columns[spec.name] ?? ""
    guard let column = labels.first(where: { $0.name == columnName }) else {
      throw FinetuneFailure.usage(
        "the labels do not cover head '\(spec.name)': no column '\(columnName)' (the images' labels have: "
          + labels.map(\.name).joined(separator: ", ") + ")")
    }
    switch (spec.kind, column) {
    case (.tanh, .numeric(_, let values)):
      guard let range = heads.labelRanges[spec.name] else {
        throw FinetuneFailure.usage("head '\(spec.name)' has no label range in the heads file")
      }
      return .regression(values, low: Double(range.lowerBound), high: Double(range.upperBound))
    case (.softmax, .categorical(_, let classes, let indices)), (.embedding, .categorical(_, let classes, let indices)):
      let known = spec.kind == .embedding ? spec.wheelClasses : (heads.classNames[spec.name] ?? [])
      let position = try classes.map { name in
        guard let index = known.firstIndex(of: name) else {
          throw FinetuneFailure.usage(
            "the labels do not cover head '\(spec.name)': class '\(name)' of column '\(columnName)' is not "
              + "one of its classes (" + known.joined(separator: ", ") + ")")
        }
        return Int32(index)
      }
      let mapped = indices.map { $0 >= 0 ? position[Int($0)] : -1 }
      return spec.kind == .embedding ? .wheel(mapped) : .classes(mapped, count: spec.outputs)
    case (.sigmoid, .categorical(_, let classes, let indices)):
      return try sigmoidHeadTargets(spec, heads: heads, column: columnName, classes: classes, indices: indices)
    default:
      throw FinetuneFailure.usage(
        "the labels do not cover head '\(spec.name)': a \(spec.kind.rawValue) head cannot train on column "
          + "'\(columnName)' (\(column.isNumeric ? "numbers" : "text classes"))")
    }
  }
}

/// 0/1 targets (N, outputs) of a sigmoid head, a row of -1 where the label is missing. A binary
/// head (one output, no separator recorded) is positive where the cell is its class; a
/// multi-label head splits each cell on the separator fit-heads recorded, and every label must
/// be one the head has.
private func sigmoidHeadTargets(
  _ spec: HeadSpec, heads: HeadsFile, column: String, classes: [String], indices: [Int32]
) throws -> HeadTargets {
  let known = heads.classNames[spec.name] ?? []
  let sets: [[String]]
  var separator = heads.separators[spec.name]
  if spec.outputs == 1, separator == nil {
    guard classes.count <= 2, let positive = known.first else {
      throw FinetuneFailure.usage(
        "the labels do not cover head '\(spec.name)': it is a binary sigmoid head (positive: "
          + "\(known.first ?? "?")) but column '\(column)' has \(classes.count) classes")
    }
    sets = classes.map { $0 == positive ? [positive] : [] }
  } else {
    separator = separator ?? ";"
    sets = labelSets(classes, separator: separator!)
  }
  do {
    return .multiLabel(
      try sigmoidTargets(sets: sets, indices: indices, vocabulary: known), labelCount: spec.outputs)
  } catch {
    throw FinetuneFailure.usage(
      "the labels do not cover head '\(spec.name)': label '\(error.label)' of column '\(column)' is not one of "
        + "its labels (" + known.joined(separator: ", ") + "; cells split on '\(separator ?? ";")')")
  }
}

extension LabelColumn {
  var isNumeric: Bool {
    if case .numeric = self { return true }
    return false
  }
}

/// The optimiser by name, at fine-tuning's small default rates (see the tool's help).
func finetuneOptimizer(_ name: String, learningRate: Double?) throws -> OptimizerKind {
  do {
    return try optimizerKind(name, learningRate: learningRate) { $0 == "sgd" ? 1e-3 : 1e-4 }
  } catch {
    throw FinetuneFailure.usage("\(error)")
  }
}
