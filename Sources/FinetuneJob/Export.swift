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

/// `model.h5` -> `model.heads.h5`.
func headsPath(forModel output: String) -> String {
  String(output.dropLast(".h5".count)) + ".heads.h5"
}

/// Writes OUTPUT and its heads file (each through a temporary file and a rename); returns the
/// heads file's path.
func export(
  _ weights: KerasWeights, kind: BackboneKind, heads: HeadsFile, parameters: [Float], outcome: TrainingOutcome,
  command: Finetune, optimizer: OptimizerKind
) throws -> String {
  let temporary = command.output + ".writing"
  try? FileManager.default.removeItem(atPath: temporary)
  try writeKerasWeights(weights, layerOrder: kind.kerasLayers.map(\.name), to: temporary, layout: .keras2)
  let digest = try SHA256.hexDigest(ofFile: temporary)
  var file = heads
  file.parameters = parameters
  file.provenance.weightsFile = command.output
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
    optimizer: command.optimizer, optimizerSettings: settings, epochsRun: outcome.epochsRun,
    bestEpoch: outcome.bestEpoch, batchSize: command.batchSize, seed: command.shuffleSeed, history: outcome.history)
  let path = headsPath(forModel: command.output)
  let headsTemporary = path + ".writing"
  try? FileManager.default.removeItem(atPath: headsTemporary)
  try file.write(to: headsTemporary)
  guard rename(temporary, command.output) == 0, rename(headsTemporary, path) == 0 else {
    throw FinetuneFailure(description: "cannot move the results into place at \(command.output)", exitCode: 1)
  }
  return path
}

/// Tests: every usable image's head outputs from the trainer's own forward pass (batch norms at
/// their moving statistics), as CSV `path,<head>:<i>,...`, to compare with `predict` on the export.
func writeTrainerPredictions(
  _ path: String, kind: BackboneKind, weights: KerasWeights, heads: HeadsFile, parameters: [Float],
  inputs: BlockInputs, paths: [String], height: Int, width: Int
) throws {
  let model = MultiHeadModel(specs: heads.specs, inputWidth: heads.inputWidth, parameters: parameters)
  let trainer = try LastBlock.trainer(
    kind, weights: weights, heads: model, optimizer: .sgd(), height: height, width: width)
  let features = try inputs.all().withUnsafeBufferPointer {
    try trainer.features(blockInput: $0, count: inputs.rows.count)
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
