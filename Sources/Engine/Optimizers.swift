// Keras 3 (3.15.1) optimiser update rules, one step over one flat parameter buffer: all of a
// model's parameters live in one allocation (views per layer), so one call updates them all.
// params, grads and every state buffer have the same count P. Defaults are Keras'.
//
// Forms as in keras/src/optimizers/*.py, in float32 like Keras. Hyperparameters are Doubles
// because Keras keeps them as Python floats: `1 - beta1` is formed in float64 and only then
// rounded to float32 (0.1f, where 1 - Float(0.9) would be 0.100000024, a 1-ulp drift per step).
// * weight decay (any optimiser, `weight_decay` argument): before the update,
//   w -= w * weightDecay * lr (base_optimizer._apply_weight_decay), decoupled from the gradient.
// * SGD: momentum 0: w -= lr g; else v = momentum v - lr g, then w += v, or with Nesterov
//   w += momentum v - lr g (with the new v).
// * Adam: t = step + 1; alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t); m += (g - m)(1 - beta1);
//   v += (g^2 - v)(1 - beta2); w -= alpha m / (sqrt(v) + epsilon)   (epsilon outside the sqrt).
// * Adamax: m += (g - m)(1 - beta1); u = max(beta2 u, |g|); w -= lr m / ((1 - beta1^t)(u + eps)).
// * RMSprop (not centred): v = rho v + (1 - rho) g^2; inc = lr g / sqrt(v + epsilon)
//   (epsilon INSIDE the sqrt); momentum 0: w -= inc; else mom = momentum mom + inc, w -= mom.
import CKernels

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// w -= w * weightDecay * lr, Keras' decoupled weight decay, applied before the update step.
@inline(__always)
private func applyWeightDecay(
  _ params: UnsafeMutableBufferPointer<Float>, _ weightDecay: Double?, _ lr: Float
) {
  guard let weightDecay, weightDecay != 0 else { return }
  let decay = Float(weightDecay)
  for i in 0..<params.count { params[i] -= params[i] * decay * lr }
}

/// One SGD step. `velocity` (P) is needed only when momentum != 0 (starts at zeros).
public func sgdUpdate(
  params: UnsafeMutableBufferPointer<Float>, grads: UnsafeBufferPointer<Float>,
  velocity: UnsafeMutableBufferPointer<Float>?,
  learningRate: Double = 0.01, momentum: Double = 0, nesterov: Bool = false, weightDecay: Double? = nil
) {
  precondition(grads.count >= params.count)
  let lr = Float(learningRate)
  applyWeightDecay(params, weightDecay, lr)
  guard momentum != 0 else {
    for i in 0..<params.count { params[i] -= grads[i] * lr }
    return
  }
  guard let v = velocity, v.count >= params.count else {
    preconditionFailure("sgdUpdate: momentum needs a velocity buffer of the parameters' size")
  }
  let mu = Float(momentum)
  for i in 0..<params.count {
    v[i] = v[i] * mu - grads[i] * lr
    params[i] += nesterov ? v[i] * mu - grads[i] * lr : v[i]
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

/// beta^t in float32, as Keras' ops.power(ops.cast(beta, float32), t).
@inline(__always)
private func power(_ beta: Double, _ t: Int) -> Float { powf(Float(beta), Float(t)) }

/// One Adam step (no amsgrad); advances `state.step`. Runs the CKernels build the CPU allows
/// (AVX-512, AVX2 or portable C, `KernelLevel`), each with exactly the scalar operations of
/// `adamUpdateReference` in the same order (no fused multiply-adds; vector square root and
/// division are correctly rounded, as the scalar ones), so they all agree with it bit for bit.
/// Updating ~10^5 parameters after every batch otherwise costs as much as the batch's matrix
/// products: one at a time, the square root and the division take ~10 cycles each; four lanes
/// at a time (SSE, what Swift compiles for) still took a quarter of a run with a 64-unit head.
public func adamUpdate(
  params: UnsafeMutableBufferPointer<Float>, grads: UnsafeBufferPointer<Float>, state: inout MomentState,
  learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7,
  weightDecay: Double? = nil
) {
  precondition(grads.count >= params.count && state.m.count >= params.count && state.v.count >= params.count)
  let c = AdamCoefficients(
    step: state.step + 1, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
    weightDecay: weightDecay)
  if params.count > 0 {
    state.m.withUnsafeMutableBufferPointer { m in
      state.v.withUnsafeMutableBufferPointer { v in
        adamUpdate(
          params: params.baseAddress!, grads: grads.baseAddress!, m: m.baseAddress!, v: v.baseAddress!,
          count: params.count, c)
      }
    }
  }
  state.step += 1
}

/// Adam's numbers for one step (Keras 3): t = the step's number from 1, alpha = lr sqrt(1 -
/// beta2^t) / (1 - beta1^t), keep1 = 1 - beta1 and keep2 = 1 - beta2 formed in float64 and
/// then rounded, and Keras' decoupled weight decay (0 for none), applied per parameter before
/// its update as w -= w * decay * lr.
public struct AdamCoefficients: Sendable {
  var c: hs_adam_coefficients

  public init(step t: Int, learningRate: Double, beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double?) {
    let lr = Float(learningRate)
    let alpha = lr * (1 - power(beta2, t)).squareRoot() / (1 - power(beta1, t))
    c = hs_adam_coefficients(
      alpha: alpha, keep1: Float(1 - beta1), keep2: Float(1 - beta2), eps: Float(epsilon),
      decay: weightDecay.map { Float($0) } ?? 0, lr: lr)
  }
}

/// One Adam step of `count` parameters with their moments m and v, in place (the kernel
/// `adamUpdate(params:grads:state:...)` runs, without touching a step count).
public func adamUpdate(
  params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
  v: UnsafeMutablePointer<Float>, count: Int, _ coefficients: AdamCoefficients
) {
  guard count > 0 else { return }
  let c = coefficients.c
  hs_adam_update(params, grads, m, v, count, c.alpha, c.keep1, c.keep2, c.eps, c.decay, c.lr)
}

/// One Adam step, one parameter at a time: the definition `adamUpdate` must match bit for bit.
public func adamUpdateReference(
  params: UnsafeMutableBufferPointer<Float>, grads: UnsafeBufferPointer<Float>, state: inout MomentState,
  learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7,
  weightDecay: Double? = nil
) {
  precondition(grads.count >= params.count && state.m.count >= params.count && state.v.count >= params.count)
  let lr = Float(learningRate)
  applyWeightDecay(params, weightDecay, lr)
  let t = state.step + 1
  let alpha = lr * (1 - power(beta2, t)).squareRoot() / (1 - power(beta1, t))
  let (keep1, keep2, eps) = (Float(1 - beta1), Float(1 - beta2), Float(epsilon))
  state.m.withUnsafeMutableBufferPointer { m in
    state.v.withUnsafeMutableBufferPointer { v in
      for i in 0..<params.count {
        let g = grads[i]
        m[i] += (g - m[i]) * keep1
        v[i] += (g * g - v[i]) * keep2
        params[i] -= m[i] * alpha / (v[i].squareRoot() + eps)
      }
    }
  }
  state.step = t
}

/// One Adamax step; advances `state.step` (state.v holds Adamax' u).
public func adamaxUpdate(
  params: UnsafeMutableBufferPointer<Float>, grads: UnsafeBufferPointer<Float>, state: inout MomentState,
  learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7,
  weightDecay: Double? = nil
) {
  precondition(grads.count >= params.count && state.m.count >= params.count && state.v.count >= params.count)
  let lr = Float(learningRate)
  applyWeightDecay(params, weightDecay, lr)
  let t = state.step + 1
  let correction = 1 - power(beta1, t)
  let (keep1, b2, eps) = (Float(1 - beta1), Float(beta2), Float(epsilon))
  state.m.withUnsafeMutableBufferPointer { m in
    state.v.withUnsafeMutableBufferPointer { u in
      for i in 0..<params.count {
        let g = grads[i]
        m[i] += (g - m[i]) * keep1
        u[i] = max(b2 * u[i], abs(g))
        params[i] -= lr * m[i] / (correction * (u[i] + eps))
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
  learningRate: Double = 0.001, rho: Double = 0.9, momentum: Double = 0, epsilon: Double = 1e-7,
  weightDecay: Double? = nil
) {
  precondition(grads.count >= params.count && velocity.count >= params.count)
  precondition(momentum == 0 || (momentumBuffer?.count ?? 0) >= params.count)
  let lr = Float(learningRate)
  applyWeightDecay(params, weightDecay, lr)
  let (r, keep, eps, mu) = (Float(rho), Float(1 - rho), Float(epsilon), Float(momentum))
  for i in 0..<params.count {
    let g = grads[i]
    velocity[i] = r * velocity[i] + keep * (g * g)
    let increment = lr * g / (velocity[i] + eps).squareRoot()
    if momentum != 0, let mom = momentumBuffer {
      mom[i] = mu * mom[i] + increment
      params[i] -= mom[i]
    } else {
      params[i] -= increment
    }
  }
}
