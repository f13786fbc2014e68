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

  /// The per-parameter state (moments, velocity, momentum buffer, step count), so a checkpoint
  /// can stop and resume training bit for bit. Setting it requires the same parameter count.
  public var state: OptimizerState {
    get { OptimizerState(m: moments.m, v: moments.v, velocity: velocity, momentum: momentum, step: moments.step) }
    set {
      precondition(newValue.m.count == moments.m.count && newValue.velocity.count == velocity.count)
      moments.m = newValue.m
      moments.v = newValue.v
      moments.step = newValue.step
      velocity = newValue.velocity
      momentum = newValue.momentum
    }
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

/// An optimiser's state as plain arrays (each as long as its parameter buffer) and a step count.
public struct OptimizerState: Sendable, Equatable {
  public var m: [Float]
  public var v: [Float]
  public var velocity: [Float]
  public var momentum: [Float]
  public var step: Int

  public init(m: [Float], v: [Float], velocity: [Float], momentum: [Float], step: Int) {
    self.m = m
    self.v = v
    self.velocity = velocity
    self.momentum = momentum
    self.step = step
  }
}
