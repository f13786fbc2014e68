// Optimiser names and settings, and Keras-style history columns, for the tool and the heads file.

import Heads

/// The optimiser `name` (adam, adamax, rmsprop, sgd with momentum 0.9) at `learningRate`, or at
/// `defaultRate(name)` when none is given: fit-heads' own default for every optimiser unless the
/// caller (finetune) has others.
public func optimizerKind(
  _ name: String, learningRate: Double?, defaultRate: (String) -> Double = { _ in TrainingDefaults.learningRate }
) throws -> OptimizerKind {
  let lr = learningRate ?? defaultRate(name)
  switch name {
  case "adam": return .adam(learningRate: lr)
  case "adamax": return .adamax(learningRate: lr)
  case "rmsprop": return .rmsprop(learningRate: lr)
  case "sgd": return .sgd(learningRate: lr, momentum: 0.9)
  default: throw FitError.usage("--optimizer \(name): expected adam, adamax, rmsprop or sgd")
  }
}

/// Keras-style history columns: `loss`, `<head>_loss`, and `val_` versions when there is validation.
func historyColumns(_ history: [(train: HeadLosses, val: HeadLosses?)], heads: [String]) -> [String: [Float]] {
  var columns: [String: [Float]] = ["loss": history.map { Float($0.train.total) }]
  for (h, name) in heads.enumerated() { columns["\(name)_loss"] = history.map { Float($0.train.heads[h]) } }
  if history.allSatisfy({ $0.val != nil }) {
    columns["val_loss"] = history.map { Float($0.val!.total) }
    for (h, name) in heads.enumerated() { columns["val_\(name)_loss"] = history.map { Float($0.val!.heads[h]) } }
  }
  return columns
}

extension OptimizerKind {
  /// The optimiser's settings by Keras' argument names, for the heads file.
  var settings: [String: Double] {
    switch self {
    case .sgd(let lr, let momentum, let nesterov):
      return ["learning_rate": lr, "momentum": momentum, "nesterov": nesterov ? 1 : 0]
    case .adam(let lr, let b1, let b2, let eps), .adamax(let lr, let b1, let b2, let eps):
      return ["learning_rate": lr, "beta_1": b1, "beta_2": b2, "epsilon": eps]
    case .rmsprop(let lr, let rho, let momentum, let eps):
      return ["learning_rate": lr, "rho": rho, "momentum": momentum, "epsilon": eps]
    }
  }
}
