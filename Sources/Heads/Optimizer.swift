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

/// A dense kernel (stored as Keras stores it, (inputs, outputs)) in an optimiser's parameter buffer
/// whose gradient dz^T x the optimiser computes itself from the batch (FusedTrainer.swift).
struct FusedKernel {
  /// Where the kernel sits in the parameter buffer.
  var range: Range<Int>
  /// The batch: pointers to its rows of `inputs` features.
  var rows: UnsafeBufferPointer<UnsafePointer<Float>>
  /// The gradient of the layer's outputs (B, outputs).
  var dz: UnsafeBufferPointer<Float>
  var inputs: Int
  var outputs: Int
}

extension Optimizer {
  /// Whether `step(_:gradients:kernel:)` can take a kernel's gradient from the batch (Adam).
  var fusesKernelGradient: Bool {
    if case .adam = kind { return true }
    return false
  }

  /// One update, as `step(_:gradients:)`, except that the gradient of `kernel.range` is not read
  /// from `gradients` but computed from the batch and applied a block of inputs at a time
  /// (`adamUpdateDenseRows`): the same update without the gradient's trip through memory.
  mutating func step(_ parameters: inout [Float], gradients: [Float], kernel: FusedKernel) {
    guard case .adam(let lr, let b1, let b2, let eps) = kind else {
      preconditionFailure("only Adam fuses the kernel gradient")
    }
    precondition(kernel.range.count == kernel.inputs * kernel.outputs && gradients.count == parameters.count)
    let c = AdamCoefficients(
      step: moments.step + 1, learningRate: lr, beta1: b1, beta2: b2, epsilon: eps, weightDecay: weightDecay)
    let range = kernel.range
    parameters.withUnsafeMutableBufferPointer { p in
      gradients.withUnsafeBufferPointer { g in
        moments.m.withUnsafeMutableBufferPointer { m in
          moments.v.withUnsafeMutableBufferPointer { v in
            adamUpdateDenseRows(
              weight: UnsafeMutableBufferPointer(rebasing: p[range]),
              m: UnsafeMutableBufferPointer(rebasing: m[range]),
              v: UnsafeMutableBufferPointer(rebasing: v[range]), rows: kernel.rows, dz: kernel.dz, ldz: kernel.outputs,
              batch: kernel.rows.count, inputs: kernel.inputs, outputs: kernel.outputs, c)
            // Everything else, from `gradients`.
            for rest in [0..<range.lowerBound, range.upperBound..<p.count] where !rest.isEmpty {
              adamUpdate(
                params: p.baseAddress! + rest.lowerBound, grads: g.baseAddress! + rest.lowerBound,
                m: m.baseAddress! + rest.lowerBound, v: v.baseAddress! + rest.lowerBound, count: rest.count, c)
            }
          }
        }
      }
    }
    moments.step += 1
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
