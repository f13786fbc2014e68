// The options several commands take, each defined once: the backbone's weights, the image
// folder and its labels, the decoding threads and batch size, and the training settings that
// fit-heads and finetune share. Closed sets are enums, so a misspelt value is refused by the
// parser with the values allowed.

import ArgumentParser
import Extraction
import FeatureStore
import Foundation

/// --weights and --seed (extract, predict, finetune).
struct WeightsOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Keras weight file, or 'random' for deterministic random weights (experiments only). Default: Keras' "
        + "standard file for the backbone in $KERAS_HOME/models or ~/.keras/models.", valueName: "file|random"))
  var weights: String?

  @Option(
    help: "Seed of --weights random (extract: default 0; predict, finetune: the seed the heads file records).")
  var seed: UInt32?

  func validate() throws {
    if seed != nil, weights != "random" { throw ValidationError("--seed goes with --weights random") }
  }

  /// The weights as the libraries take them.
  var choice: WeightsChoice {
    switch weights {
    case nil: .kerasDefault
    case "random": .random(seed: seed)
    case let path?: .file(path)
    }
  }
}

/// --images, --labels and --dir-labels: an image folder and where its labels come from (extract,
/// finetune).
struct DatasetOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Image folder, searched recursively; rows are sorted by relative path (extract: or --array).", valueName: "dir"))
  var images: String?

  @Option(
    help: ArgumentHelp(
      "CSV manifest: the path relative to --images, then label columns; it lists the images to use.",
      valueName: "file.csv"))
  var labels: String?

  @Option(
    help: ArgumentHelp(
      "Split the first folder level on '_' into these label columns (black_jeans/ -> color,type).",
      valueName: "col,col"))
  var dirLabels: String?

  func validate() throws {
    if dirLabels != nil, labels != nil {
      throw ValidationError("--dir-labels and --labels cannot be used together")
    }
    if let dirLabels, dirLabels.split(separator: ",").isEmpty {
      throw ValidationError("--dir-labels: give column names, e.g. color,type")
    }
  }

  /// The --dir-labels columns, trimmed.
  var dirLabelColumns: [String]? {
    dirLabels.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
  }
}

/// --array (extract, predict): images from an array file instead of a folder
/// (Extraction/ArrayInput.swift has the rules).
struct ArrayOption: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Images from an array instead of a folder: FILE.npz[:NAME] (np.savez, default NAME x), FILE.npy, or "
        + "FILE.h5:DATASET; uint8 (N, H, W, 3) or (N, H, W) gray. Row i is named NAME[00000i]; the images keep "
        + "their size unless --size (extract) or the heads file (predict) says otherwise.",
      valueName: "file[:name]"))
  var array: String?
}

/// --array-labels and --class-names (extract): the labels of an --array input.
struct ArrayLabelOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "The labels array in the --array file (default: the images' name with x as y, x -> y, x_train -> y_train, "
        + "when present): class indices (N) or (N, 1), or one-hot (N, C).", valueName: "name"))
  var arrayLabels: String?

  @Option(
    help: ArgumentHelp(
      "Names of classes 0, 1, ... of --array labels, comma-separated (default: the index, \"0\", \"1\", ...).",
      valueName: "a,b,..."))
  var classNames: String?

  /// The --class-names, trimmed.
  var names: [String]? {
    classNames.map {
      $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }
  }
}

/// --include-hidden (extract, finetune, predict): the folder listing's one optional rule
/// (Extraction/FolderListing.swift).
struct HiddenFilesOption: ParsableArguments {
  @Flag(
    help: ArgumentHelp(
      "Also read hidden files: names starting with '.' and files inside folders whose name starts with '.' "
        + "(skipped and counted by default)."))
  var includeHidden = false
}

/// --batch-size and --threads of the commands that run the backbone over images (extract,
/// predict, finetune).
struct ImageBatchOptions: ParsableArguments {
  @Option(help: "Images per forward pass (finetune: per training step).")
  var batchSize: Int = 16

  @Option(help: "Threads decoding images (the network uses every core).")
  var threads: Int = ProcessInfo.processInfo.activeProcessorCount

  func validate() throws {
    guard batchSize >= 1, threads >= 1 else { throw ValidationError("--batch-size and --threads must be at least 1") }
  }
}

/// --shard K/N (extract, predict): one contiguous slice of the sorted images.
struct ShardOption: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Only shard K of N (0 <= K < N): slice K of the sorted images cut into N parts whose sizes differ by at "
        + "most one. extract: `headstart merge` joins the shard files; predict: CSV parts after the first have "
        + "no header, so the parts concatenated in K order are one run's file (Docs/scaling-out.md).",
      valueName: "K/N"))
  var shard: String?

  func validate() throws {
    if let shard, ShardSpec(parsing: shard) == nil {
      throw ValidationError("--shard \(shard): expected K/N with 0 <= K < N, e.g. 3/16")
    }
  }

  /// The shard, checked by `validate`.
  var spec: ShardSpec? { shard.flatMap(ShardSpec.init(parsing:)) }
}

/// The optimiser, by Keras' name (fit-heads, finetune).
enum OptimizerName: String, CaseIterable, ExpressibleByArgument {
  case adam, adamax, rmsprop, sgd
}

/// --optimizer and --learning-rate (fit-heads, finetune).
struct OptimizerOptions: ParsableArguments {
  @Option(help: "Optimiser (sgd: with momentum 0.9).")
  var optimizer: OptimizerName = .adam

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Learning rate (default: fit-heads 0.01; finetune 1e-4, or 1e-3 for sgd, small so the pre-trained "
        + "block is not wrecked before the heads adapt)."))
  var learningRate: Double?

  func validate() throws {
    if let learningRate, !(learningRate > 0 && learningRate.isFinite) {
      throw ValidationError("--learning-rate \(learningRate): must be a positive number")
    }
  }
}

/// --val-split and --patience, with one meaning for fit-heads and finetune.
struct ValidationOptions: ParsableArguments {
  @Option(help: "Share of rows for validation when there is neither a `split` nor an `in_train` column.")
  var valSplit: Double = 0.1

  @Option(
    help: "Stop after this many epochs without a better validation loss (Keras' EarlyStopping patience).")
  var patience: Int = 5

  func validate() throws {
    guard (0..<1).contains(valSplit) else { throw ValidationError("--val-split \(valSplit): must be in [0, 1)") }
    guard patience >= 0 else { throw ValidationError("--patience \(patience): must be at least 0") }
  }
}

/// "224x224" -> (224, 224); HEIGHTxWIDTH.
func parseSize(_ text: String) -> (Int, Int)? {
  let parts = text.lowercased().split(separator: "x")
  guard parts.count == 2, let height = Int(parts[0]), let width = Int(parts[1]), height > 0, width > 0 else {
    return nil
  }
  return (height, width)
}

/// One line on stderr.
func log(_ message: String) {
  FileHandle.standardError.write(Data((message + "\n").utf8))
}
