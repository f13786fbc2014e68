// The result: the whole backbone in Keras' legacy weight layout (every layer of
// keras.applications' model, in its order, so `load_weights` by topology reads it), and beside
// it a heads file whose provenance names that file and its SHA-256, so `predict` accepts the
// pair with its usual checks.

import Backbones
import Engine
import Extraction
import Finetuning
import Foundation
import Heads
import Support

/// `model.h5` -> `model.heads.h5`.
func headsPath(forModel output: String) -> String {
  String(output.dropLast(".h5".count)) + ".heads.h5"
}

/// Writes OUTPUT and its heads file (each through a temporary file and a rename); returns the
/// heads file's path.
func export(
  _ weights: KerasWeights, kind: BackboneKind, heads: HeadsFile, parameters: [Float], outcome: TrainingOutcome,
  options: FinetuneOptions, optimizer: OptimizerKind, seed: UInt64, validationRows: String
) throws -> String {
  // Both files are written under their temporary names, then renamed into place together.
  let temporary = AtomicFile.temporaryPath(for: options.output)
  try? FileManager.default.removeItem(atPath: temporary)
  try writeKerasWeights(weights, layerOrder: kind.kerasLayers.map(\.name), to: temporary, layout: .keras2)
  let digest = try SHA256.hexDigest(ofFile: temporary)
  var file = heads
  file.parameters = parameters
  file.provenance.weightsFile = options.output
  file.provenance.weightsSHA256 = digest
  file.provenance.warning = nil
  file.toolVersion = headstartVersion
  var settings: [String: Double] = [:]
  switch optimizer {
  case .adam(let lr, _, _, _), .adamax(let lr, _, _, _), .rmsprop(let lr, _, _, _): settings["learning_rate"] = lr
  case .sgd(let lr, let momentum, _):
    settings["learning_rate"] = lr
    settings["momentum"] = momentum
  }
  file.training = TrainingRecord(
    optimizer: options.optimizer, optimizerSettings: settings, epochsRun: outcome.epochsRun,
    bestEpoch: outcome.bestEpoch, batchSize: options.batchSize, seed: seed, history: outcome.history)
  file.training.validationRows = validationRows
  let path = headsPath(forModel: options.output)
  let headsTemporary = AtomicFile.temporaryPath(for: path)
  try file.write(to: headsTemporary)
  do {
    try AtomicFile.commit(temporary, to: options.output)
    try AtomicFile.commit(headsTemporary, to: path)
  } catch let error as AtomicReplaceError {
    throw FinetuneFailure(description: error.description, exitCode: 1)
  }
  return path
}

/// Tests: every usable image's head outputs from the trainer's own forward pass (batch norms at
/// their moving statistics), as CSV `path,<head>:<i>,...`, to compare with `predict` on the export.
func writeTrainerPredictions(
  _ path: String, kind: BackboneKind, weights: KerasWeights, heads: HeadsFile, parameters: [Float],
  inputs: BlockInputs, row: FeatureRow, paths: [String], height: Int, width: Int
) throws {
  let model = MultiHeadModel(specs: heads.specs, inputWidth: heads.inputWidth, parameters: parameters)
  let trainer = try LastBlock.trainer(
    kind, weights: weights, heads: model, optimizer: .sgd(), row: row, height: height, width: width)
  let features = try inputs.all().withUnsafeBufferPointer { block in
    try inputs.fixed.withUnsafeBufferPointer { fixed in
      try trainer.features(blockInput: block, fixed: fixed, count: inputs.rows.count)
    }
  }
  let outputs = model.predict(features: features)
  var lines = [
    "path,"
      + heads.specs.enumerated().flatMap { h, spec in
        (0..<(outputs[h].count / inputs.rows.count)).map { "\(spec.name):\($0)" }
      }.joined(separator: ",")
  ]
  for (i, row) in inputs.rows.enumerated() {
    var fields = [paths[row]]
    for output in outputs {
      let width = output.count / inputs.rows.count
      fields += output[(i * width)..<((i + 1) * width)].map { "\($0)" }
    }
    lines.append(fields.joined(separator: ","))
  }
  try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
}
