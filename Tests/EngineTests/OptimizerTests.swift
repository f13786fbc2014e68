import XCTest

@testable import Engine

/// Three steps of each optimiser from fixed weights on fixed gradients, against the weights
/// real Keras 3.15.1 produced (Tests/Fixtures/make_optimizer_fixtures.py), to 1e-6.
final class OptimizerTests: XCTestCase {
  func testOptimizersMatchKeras() throws {
    let fixture = try HeadsFixture.load()
    let grads = fixture.gradients.map { $0.map(Float.init) }
    var worst: Float = 0
    for case_ in fixture.optimizers {
      var params = fixture.initial.map(Float.init)
      var buffer1 = [Float](repeating: 0, count: params.count)
      var buffer2 = [Float](repeating: 0, count: params.count)
      var state = MomentState(count: params.count)
      for (step, g) in grads.enumerated() {
        g.withUnsafeBufferPointer { g in
          params.withUnsafeMutableBufferPointer { p in
            buffer1.withUnsafeMutableBufferPointer { b in
              switch case_.name {
              case "sgd": sgdUpdate(params: p, grads: g, velocity: nil)
              case "sgd_momentum":
                sgdUpdate(params: p, grads: g, velocity: b, learningRate: 0.1, momentum: 0.9)
              case "sgd_nesterov":
                sgdUpdate(params: p, grads: g, velocity: b, learningRate: 0.1, momentum: 0.9, nesterov: true)
              case "sgd_wd":
                sgdUpdate(params: p, grads: g, velocity: nil, learningRate: 0.1, weightDecay: 0.2)
              case "adam": adamUpdate(params: p, grads: g, state: &state)
              case "adam_lr":
                adamUpdate(params: p, grads: g, state: &state, learningRate: 0.05, beta1: 0.8, beta2: 0.99)
              case "adam_wd":
                adamUpdate(params: p, grads: g, state: &state, learningRate: 0.05, weightDecay: 0.1)
              case "adamax": adamaxUpdate(params: p, grads: g, state: &state)
              case "adamax_lr": adamaxUpdate(params: p, grads: g, state: &state, learningRate: 0.05)
              case "rmsprop": rmspropUpdate(params: p, grads: g, velocity: b, momentumBuffer: nil)
              case "rmsprop_lr":
                rmspropUpdate(
                  params: p, grads: g, velocity: b, momentumBuffer: nil, learningRate: 0.05, rho: 0.8)
              case "rmsprop_momentum":
                buffer2.withUnsafeMutableBufferPointer { mom in
                  rmspropUpdate(
                    params: p, grads: g, velocity: b, momentumBuffer: mom, learningRate: 0.05, momentum: 0.5)
                }
              default: XCTFail("fixture has an optimiser the test does not know: \(case_.name)")
              }
            }
          }
        }
        let diff = maxAbsDiff(params, case_.steps[step].map(Float.init))
        worst = max(worst, diff)
        XCTAssertLessThan(diff, 1e-6, "\(case_.name) step \(step + 1)")
      }
    }
    print(
      "optimisers vs Keras \(fixture.keras): \(fixture.optimizers.count) configs x 3 steps,"
        + " max |diff| \(worst)"
    )
  }
}
