// Writing and reading the heads file. Schema (Docs/file-format.md, "The heads file"):
//
//   root attributes       format_version, kind, tool_version, heads (names in parameter order),
//                         input_width, and the feature provenance of the feature file (its
//                         tool_version as features_tool_version)
//   /heads/<name>         attributes kind, column, outputs, hidden, loss_weight, class_names
//                         (softmax, sigmoid), separator (multi-label sigmoid), taps (a head
//                         on some of the taps only: its first kernel has their rows); float32
//                         datasets label_range (2) for tanh and
//                         thresholds (outputs) for sigmoid
//   /heads/<name>/<layer> datasets kernel float32 (in, out) and bias float32 (out), one group per
//                         Dense layer named as `HeadSpec.layerNames` (Keras layer names)
//   /training             attributes optimizer (JSON), epochs_run, best_epoch, batch_size, seed,
//                         validation_rows (optional: count and SHA-256 of the validation paths)
//   /training/history/<c> float32 (epochs_run) per curve: loss, val_loss, <head>_loss, ...

import FeatureStore
import Foundation
import HDF5
import Support

extension HeadsFile {
  /// Writes the file to a temporary name beside `path`, then renames it over `path`, so a reader
  /// never sees half a file. The same value always gives the same bytes.
  public func write(to path: String) throws {
    if let problem = problem() { throw HeadsFileError(path: path, problem: problem) }
    do {
      try AtomicFile.replace(path) { temporary in try HDF5File.withNewFile(temporary) { try writeContents(to: $0) } }
    } catch let error as AtomicReplaceError {
      throw HeadsFileError(path: path, problem: "cannot be put in place: \(error.reason)")
    }
  }

  private func writeContents(to file: HDF5File) throws {
    try file.setAttribute(Key.formatVersion, int: headsFileFormatVersion)
    try file.setAttribute(Key.kind, string: headsFileKind)
    try file.setAttribute(Key.toolVersion, string: toolVersion)
    try file.setAttribute(Key.heads, strings: specs.map(\.name))
    try file.setAttribute(Key.inputWidth, int: inputWidth)
    try writeProvenance(provenance, to: file)

    let heads = try file.createGroup(Key.headsGroup)
    let (slots, classVectorSlots, _) = MultiHeadModel.layout(specs: specs, inputWidth: inputWidth)
    for (h, (spec, headSlots)) in zip(specs, slots).enumerated() {
      let group = try heads.createGroup(spec.name)
      try group.setAttribute(Key.kind, string: spec.kind.rawValue)
      try group.setAttribute(Key.column, string: columns[spec.name] ?? "")
      try group.setAttribute(Key.outputs, int: spec.outputs)
      try group.setAttribute(Key.hidden, ints: spec.hidden)
      try group.setAttribute(Key.lossWeight, double: Double(spec.lossWeight))
      // Training-only, so absent (not 0) without dropout: files trained without it are unchanged.
      if spec.dropout > 0 { try group.setAttribute(Key.dropout, double: Double(spec.dropout)) }
      if let names = spec.kind == .embedding ? spec.wheelClasses : classNames[spec.name] {
        try group.setAttribute(Key.classNames, strings: names)
      }
      // Float arrays are small datasets, not attributes: the HDF5 wrapper reads float arrays
      // only from datasets.
      if spec.kind == .tanh, let range = labelRanges[spec.name] {
        try group.createDataset(Key.labelRange, floats: [range.lowerBound, range.upperBound], shape: [2])
      }
      if spec.kind == .sigmoid, let values = thresholds[spec.name] {
        try group.createDataset(Key.thresholds, floats: values, shape: [values.count])
      }
      if spec.kind == .sigmoid, let separator = separators[spec.name] {
        try group.setAttribute(Key.separator, string: separator)
      }
      if let taps = headTaps[spec.name] { try group.setAttribute(Key.taps, strings: taps) }
      for (l, (layer, slot)) in zip(spec.layerNames, headSlots).enumerated() {
        let dense = try group.createGroup(layer)
        // A head on some of the taps stores the kernel Keras would have: a Dense on those taps
        // alone, their rows in the order named (the model's other rows are zero).
        let rows = l == 0 ? spec.inputColumns ?? [0..<slot.inputs] : [0..<slot.inputs]
        let kernel = rows.joined().flatMap { row in
          parameters[
            (slot.kernel.lowerBound + row * slot.outputs)..<(slot.kernel.lowerBound + (row + 1) * slot.outputs)]
        }
        try dense.createDataset(Key.kernel, floats: kernel, shape: [kernel.count / slot.outputs, slot.outputs])
        try dense.createDataset(Key.bias, floats: Array(parameters[slot.bias]), shape: [slot.outputs])
      }
      if spec.kind == .embedding {
        // The wheel's classes are the head's class names; its learned vectors (C, E) sit beside
        // the layers.
        try group.setAttribute(Key.wheelSigma, double: spec.wheelSigma)
        try group.createDataset(
          Key.classVectors, floats: Array(parameters[classVectorSlots[h]]),
          shape: [spec.wheelClasses.count, spec.outputs])
      }
    }

    let group = try file.createGroup(Key.training)
    try group.setAttribute(
      Key.optimizer, string: optimizerJSON(name: training.optimizer, settings: training.optimizerSettings))
    try group.setAttribute(Key.epochsRun, int: training.epochsRun)
    try group.setAttribute(Key.bestEpoch, int: training.bestEpoch)
    try group.setAttribute(Key.batchSize, int: training.batchSize)
    // int64 attribute; seeds of 2^63 and above are stored as their two's-complement bit pattern.
    try group.setAttribute(Key.seed, int: Int(truncatingIfNeeded: training.seed))
    if !training.validationRows.isEmpty { try group.setAttribute(Key.validationRows, string: training.validationRows) }
    let history = try group.createGroup(Key.history)
    for name in training.history.keys.sorted() {
      let values = training.history[name]!
      try history.createDataset(name, floats: values, shape: [values.count])
    }
  }

  /// Reads and checks a heads file: its kind and version, every head's layers and their shapes.
  public static func read(path: String) throws -> HeadsFile {
    try HDF5File.withFile(path) { file in
      func fail(_ problem: String) -> HeadsFileError { HeadsFileError(path: path, problem: problem) }
      guard try file.hasAttribute(Key.kind), try file.stringAttribute(Key.kind) == headsFileKind else {
        throw fail("is not a heads file (its root attribute kind is not \"\(headsFileKind)\")")
      }
      let version = try file.intAttribute(Key.formatVersion)
      guard version == headsFileFormatVersion else {
        throw fail(
          "has format version \(version); this tool reads version \(headsFileFormatVersion)")
      }
      let provenance = try readProvenance(file)
      let inputWidth = try file.intAttribute(Key.inputWidth)
      guard try file.exists(Key.headsGroup) else { throw fail("has no /heads group") }
      let heads = try file.openGroup(Key.headsGroup)

      var specs: [HeadSpec] = []
      var columns: [String: String] = [:]
      var classNames: [String: [String]] = [:]
      var labelRanges: [String: ClosedRange<Float>] = [:]
      var thresholds: [String: [Float]] = [:]
      var separators: [String: String] = [:]
      var headTaps: [String: [String]] = [:]
      var parameters: [Float] = []
      for name in try file.stringsAttribute(Key.heads) {
        guard try heads.exists(name) else { throw fail("lists head \"\(name)\" but has no /heads/\(name)") }
        let group = try heads.openGroup(name)
        let kindName = try group.stringAttribute(Key.kind)
        guard let kind = HeadKind(rawValue: kindName) else {
          throw fail("head \"\(name)\" has unknown kind \"\(kindName)\"")
        }
        var spec = HeadSpec(
          name: name, kind: kind, outputs: try group.intAttribute(Key.outputs),
          hidden: try group.intsAttribute(Key.hidden),
          lossWeight: Float(try group.doubleAttribute(Key.lossWeight)))
        if try group.hasAttribute(Key.dropout) { spec.dropout = Float(try group.doubleAttribute(Key.dropout)) }
        if try group.hasAttribute(Key.taps) {
          let taps = try group.stringsAttribute(Key.taps)
          headTaps[name] = taps
          do {
            spec.inputColumns = try provenance.columns(ofTaps: taps, dimension: inputWidth)
          } catch {
            throw fail("head \"\(name)\" reads taps \(taps), which do not fit the features' taps \(provenance.taps)")
          }
        }
        if kind == .embedding {
          guard try group.hasAttribute(Key.classNames), try group.hasAttribute(Key.wheelSigma) else {
            throw fail("embedding head \"\(name)\" has no class_names or wheel_sigma")
          }
          spec.wheelClasses = try group.stringsAttribute(Key.classNames)
          spec.wheelSigma = try group.doubleAttribute(Key.wheelSigma)
        }
        specs.append(spec)
        columns[name] = try group.stringAttribute(Key.column)
        if try group.hasAttribute(Key.classNames) {
          classNames[name] = try group.stringsAttribute(Key.classNames)
        }
        if try group.exists(Key.labelRange) {
          let range = try group.openDataset(Key.labelRange).readFloats()
          guard range.count == 2, range[0] < range[1] else {
            throw fail("head \"\(name)\" has label_range \(range), not [low, high]")
          }
          labelRanges[name] = range[0]...range[1]
        }
        if try group.exists(Key.thresholds) {
          thresholds[name] = try group.openDataset(Key.thresholds).readFloats()
        }
        if try group.hasAttribute(Key.separator) { separators[name] = try group.stringAttribute(Key.separator) }
        var width = inputWidth
        for (l, (layer, units)) in zip(spec.layerNames, spec.hidden + [spec.outputs]).enumerated() {
          let at = "/heads/\(name)/\(layer)"
          guard try group.exists(layer) else { throw fail("misses layer \(at)") }
          let dense = try group.openGroup(layer)
          let rows = l == 0 ? spec.inputColumns ?? [0..<width] : [0..<width]
          let storedRows = rows.reduce(0) { $0 + $1.count }
          for (dataset, shape) in [(Key.kernel, [storedRows, units]), (Key.bias, [units])] {
            guard try dense.exists(dataset) else { throw fail("misses \(at)/\(dataset)") }
            let stored = try dense.openDataset(dataset)
            let found = try stored.shape()
            guard found == shape else {
              throw fail("has \(at)/\(dataset) of shape \(found); the head needs \(shape)")
            }
            let values = try stored.readFloats()
            guard dataset == Key.kernel, l == 0, spec.inputColumns != nil else {
              parameters += values
              continue
            }
            // Only the rows of the head's taps are stored; the others are zero.
            var kernel = [Float](repeating: 0, count: width * units)
            for (i, row) in rows.joined().enumerated() {
              kernel[(row * units)..<((row + 1) * units)] = values[(i * units)..<((i + 1) * units)]
            }
            parameters += kernel
          }
          width = units
        }
        if kind == .embedding {
          let expected = [spec.wheelClasses.count, spec.outputs]
          guard try group.exists(Key.classVectors) else { throw fail("misses /heads/\(name)/class_vectors") }
          let stored = try group.openDataset(Key.classVectors)
          let found = try stored.shape()
          guard found == expected else {
            throw fail("has /heads/\(name)/class_vectors of shape \(found); the head needs \(expected)")
          }
          parameters += try stored.readFloats()
        }
      }

      let group = try file.openGroup(Key.training)
      let (optimizer, settings) = try parseOptimizerJSON(try group.stringAttribute(Key.optimizer), fail: fail)
      var history: [String: [Float]] = [:]
      let historyGroup = try group.openGroup(Key.history)
      for name in try historyGroup.memberNames() {
        history[name] = try historyGroup.openDataset(name).readFloats()
      }
      var training = TrainingRecord(
        optimizer: optimizer, optimizerSettings: settings,
        epochsRun: try group.intAttribute(Key.epochsRun), bestEpoch: try group.intAttribute(Key.bestEpoch),
        batchSize: try group.intAttribute(Key.batchSize),
        seed: UInt64(truncatingIfNeeded: try group.intAttribute(Key.seed)), history: history)
      if try group.hasAttribute(Key.validationRows) {
        training.validationRows = try group.stringAttribute(Key.validationRows)
      }
      var result = HeadsFile(
        specs: specs, columns: columns, classNames: classNames, labelRanges: labelRanges,
        thresholds: thresholds, parameters: parameters, inputWidth: inputWidth, provenance: provenance,
        training: training, toolVersion: try file.stringAttribute(Key.toolVersion))
      result.separators = separators
      result.headTaps = headTaps
      if let problem = result.problem() { throw fail(problem) }
      return result
    }
  }
}

/// Names as stored.
private enum Key {
  static let formatVersion = "format_version"
  static let kind = "kind"
  static let toolVersion = "tool_version"
  static let heads = "heads"
  static let inputWidth = "input_width"
  static let headsGroup = "heads"
  static let column = "column"
  static let outputs = "outputs"
  static let hidden = "hidden"
  static let lossWeight = "loss_weight"
  static let dropout = "dropout"
  static let classNames = "class_names"
  static let labelRange = "label_range"
  static let thresholds = "thresholds"
  static let separator = "separator"
  static let taps = "taps"
  static let classVectors = "class_vectors"
  static let wheelSigma = "wheel_sigma"
  static let kernel = "kernel"
  static let bias = "bias"
  static let training = "training"
  static let optimizer = "optimizer"
  static let epochsRun = "epochs_run"
  static let bestEpoch = "best_epoch"
  static let batchSize = "batch_size"
  static let seed = "seed"
  static let validationRows = "validation_rows"
  static let history = "history"
}
