// The optimisers of Keras 3 over one flat parameter buffer, with their state.

import Engine

/// An optimiser and its settings; Keras' defaults where Keras has them.
public enum OptimizerKind: Sendable, Equatable {
  case sgd(learningRate: Double = 0.01, momentum: Double = 0, nesterov: Bool = false)
  case adam(learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7)
  case adamax(learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7)
  case rmsprop(learningRate: Double = 0.001, rho: Double = 0.9, momentum: Double = 0, epsilon: Double = 1e-7)
}

/// An optimiser with its per-parameter state, for one parameter buffer of fixed size.
public struct Optimizer: Sendable {
  public let kind: OptimizerKind
  public var weightDecay: Double?
  private var moments: MomentState
  private var velocity: [Float]
  private var momentum: [Float]

  public init(_ kind: OptimizerKind, parameterCount: Int, weightDecay: Double? = nil) {
    self.kind = kind
    self.weightDecay = weightDecay
    moments = MomentState(count: parameterCount)
    velocity = [Float](repeating: 0, count: parameterCount)
    momentum = [Float](repeating: 0, count: parameterCount)
  }

  /// One update of `parameters` from `gradients`.
  public mutating func step(_ parameters: inout [Float], gradients: [Float]) {
    let decay = weightDecay
    parameters.withUnsafeMutableBufferPointer { p in
      gradients.withUnsafeBufferPointer { g in
        switch kind {
        case .sgd(let lr, let mu, let nesterov):
          velocity.withUnsafeMutableBufferPointer { v in
            sgdUpdate(
              params: p, grads: g, velocity: mu == 0 ? nil : v, learningRate: lr, momentum: mu, nesterov: nesterov,
              weightDecay: decay)
          }
        case .adam(let lr, let b1, let b2, let eps):
          adamUpdate(
            params: p, grads: g, state: &moments, learningRate: lr, beta1: b1, beta2: b2, epsilon: eps,
            weightDecay: decay)
        case .adamax(let lr, let b1, let b2, let eps):
          adamaxUpdate(
            params: p, grads: g, state: &moments, learningRate: lr, beta1: b1, beta2: b2, epsilon: eps,
            weightDecay: decay)
        case .rmsprop(let lr, let rho, let mu, let eps):
          velocity.withUnsafeMutableBufferPointer { v in
            momentum.withUnsafeMutableBufferPointer { m in
              rmspropUpdate(
                params: p, grads: g, velocity: v, momentumBuffer: mu == 0 ? nil : m, learningRate: lr, rho: rho,
                momentum: mu, epsilon: eps, weightDecay: decay)
            }
          }
        }
      }
    }
  }
}
