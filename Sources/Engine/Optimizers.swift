// Keras 3 (3.15.1) optimiser update rules, one step over one flat parameter buffer: all of a
// model's parameters live in one allocation (views per layer), so one call updates them all.
// params, grads and every state buffer have the same count P. Defaults are Keras'.
//
// Forms as in keras/src/optimizers/*.py, in float32 like Keras:
// * weight decay (any optimiser, `weight_decay` argument): before the update,
//   w -= w * weightDecay * lr (base_optimizer._apply_weight_decay), decoupled from the gradient.
// * SGD: momentum 0: w -= lr g; else v = momentum v - lr g, then w += v, or with Nesterov
//   w += momentum v - lr g (with the new v).
// * Adam: t = step + 1; alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t); m += (g - m)(1 - beta1);
//   v += (g^2 - v)(1 - beta2); w -= alpha m / (sqrt(v) + epsilon)   (epsilon outside the sqrt).
// * Adamax: m += (g - m)(1 - beta1); u = max(beta2 u, |g|); w -= lr m / ((1 - beta1^t)(u + eps)).
// * RMSprop (not centred): v = rho v + (1 - rho) g^2; inc = lr g / sqrt(v + epsilon)
//   (epsilon INSIDE the sqrt); momentum 0: w -= inc; else mom = momentum mom + inc, w -= mom.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// w -= w * weightDecay * lr, Keras' decoupled weight decay, applied before the update step.
@inline(__always)
private func applyWeightDecay(_ params: UnsafeMutableBufferPointer<Float>, _ decay: Float?, _ lr: Float) {
  guard let decay, decay != 0 else { return }
  for i in 0..<params.count { params[i] -= params[i] * decay * lr }
}

/// One SGD step. `velocity` (P) is needed only when momentum != 0 (starts at zeros).
public func sgdUpdate(
  params: UnsafeMutableBufferPointer<Float>, grads: UnsafeBufferPointer<Float>,
  velocity: UnsafeMutableBufferPointer<Float>?,
  learningRate lr: Float = 0.01, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float? = nil
) {
  precondition(grads.count >= params.count)
  applyWeightDecay(params, weightDecay, lr)
  guard momentum != 0 else {
    for i in 0..<params.count { params[i] -= grads[i] * lr }
    return
  }
  guard let v = velocity, v.count >= params.count else {
    preconditionFailure("sgdUpdate: momentum needs a velocity buffer of the parameters' size")
  }
  for i in 0..<params.count {
    v[i] = v[i] * momentum - grads[i] * lr
    params[i] += nesterov ? v[i] * momentum - grads[i] * lr : v[i]
  }
}

/// The moment estimates of Adam (m, v) or Adamax (m, u), and the number of steps taken
/// (Keras' `iterations`).
public struct MomentState: Sendable {
  /// First moment (P).
  public var m: [Float]
  /// Second moment (P): Adam's v, Adamax' u.
  public var v: [Float]
  /// Steps already applied.
  public var step: Int
  /// Zero state for `count` parameters.
  public init(count: Int) {
    m = [Float](repeating: 0, count: count)
    v = [Float](repeating: 0, count: count)
    step = 0
  }
}

/// beta^t in float32, as Keras' ops.power on float32 values.
@inline(__always)
private func power(_ beta: Float, _ t: Int) -> Float { powf(beta, Float(t)) }

/// One Adam step (no amsgrad); advances `state.step`.
public func adamUpdate(
  params: UnsafeMutableBufferPointer<Float>, grads: UnsafeBufferPointer<Float>, state: inout MomentState,
  learningRate lr: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7,
  weightDecay: Float? = nil
) {
  precondition(grads.count >= params.count && state.m.count >= params.count && state.v.count >= params.count)
  applyWeightDecay(params, weightDecay, lr)
  let t = state.step + 1
  let alpha = lr * (1 - power(beta2, t)).squareRoot() / (1 - power(beta1, t))
  state.m.withUnsafeMutableBufferPointer { m in
    state.v.withUnsafeMutableBufferPointer { v in
      for i in 0..<params.count {
        let g = grads[i]
        m[i] += (g - m[i]) * (1 - beta1)
        v[i] += (g * g - v[i]) * (1 - beta2)
        params[i] -= m[i] * alpha / (v[i].squareRoot() + epsilon)
      }
    }
  }
  state.step = t
}

/// One Adamax step; advances `state.step` (state.v holds Adamax' u).
public func adamaxUpdate(
  params: UnsafeMutableBufferPointer<Float>, grads: UnsafeBufferPointer<Float>, state: inout MomentState,
  learningRate lr: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7,
  weightDecay: Float? = nil
) {
  precondition(grads.count >= params.count && state.m.count >= params.count && state.v.count >= params.count)
  applyWeightDecay(params, weightDecay, lr)
  let t = state.step + 1
  let correction = 1 - power(beta1, t)
  state.m.withUnsafeMutableBufferPointer { m in
    state.v.withUnsafeMutableBufferPointer { u in
      for i in 0..<params.count {
        let g = grads[i]
        m[i] += (g - m[i]) * (1 - beta1)
        u[i] = max(beta2 * u[i], abs(g))
        params[i] -= lr * m[i] / (correction * (u[i] + epsilon))
      }
    }
  }
  state.step = t
}

/// One RMSprop step (not centred). `velocity` (P) starts at zeros; `momentumBuffer` (P) is
/// needed only when momentum != 0.
public func rmspropUpdate(
  params: UnsafeMutableBufferPointer<Float>, grads: UnsafeBufferPointer<Float>,
  velocity: UnsafeMutableBufferPointer<Float>, momentumBuffer: UnsafeMutableBufferPointer<Float>?,
  learningRate lr: Float = 0.001, rho: Float = 0.9, momentum: Float = 0, epsilon: Float = 1e-7,
  weightDecay: Float? = nil
) {
  precondition(grads.count >= params.count && velocity.count >= params.count)
  precondition(momentum == 0 || (momentumBuffer?.count ?? 0) >= params.count)
  applyWeightDecay(params, weightDecay, lr)
  for i in 0..<params.count {
    let g = grads[i]
    velocity[i] = rho * velocity[i] + (1 - rho) * (g * g)
    let increment = lr * g / (velocity[i] + epsilon).squareRoot()
    if momentum != 0, let mom = momentumBuffer {
      mom[i] = momentum * mom[i] + increment
      params[i] -= mom[i]
    } else {
      params[i] -= increment
    }
  }
}
