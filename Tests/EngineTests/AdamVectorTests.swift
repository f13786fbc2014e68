// The vector Adam (CKernels, every build the machine can run) must be the scalar definition,
// bit for bit: Keras parity rests on the scalar form (KerasTrainingParityTests), and the lanes
// only reorder which parameter is done when.

import Engine
import XCTest

final class AdamVectorTests: XCTestCase {
  override func tearDown() {
    KernelLevel.force(.best)
    super.tearDown()
  }

  func testVectorAdamEqualsTheScalarDefinitionBitForBitAtEveryLevel() {
    // 1,003 parameters: 62 vectors of sixteen (125 of eight, 250 of four) and a tail; gradients
    // over many magnitudes, with zeros, over 20 steps, with and without weight decay.
    for level in KernelLevel.allCases where level <= KernelLevel.best {
      KernelLevel.force(level)
      for decay in [nil, 0.05] as [Double?] { check(decay: decay, level: level) }
    }
  }

  private func check(decay: Double?, level: KernelLevel) {
    var generator = SystemRandomNumberGenerator()
    let count = 1003
    var fast = (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
    var slow = fast
    var fastState = MomentState(count: count)
    var slowState = MomentState(count: count)
    for _ in 0..<20 {
      let grads = (0..<count).map { i -> Float in
        i % 17 == 0 ? 0 : Float.random(in: -1...1, using: &generator) * powf(10, Float(i % 9) - 6)
      }
      grads.withUnsafeBufferPointer { g in
        fast.withUnsafeMutableBufferPointer {
          adamUpdate(params: $0, grads: g, state: &fastState, learningRate: 0.01, weightDecay: decay)
        }
        slow.withUnsafeMutableBufferPointer {
          adamUpdateReference(params: $0, grads: g, state: &slowState, learningRate: 0.01, weightDecay: decay)
        }
      }
    }
    XCTAssertEqual(
      fast.map(\.bitPattern), slow.map(\.bitPattern), "\(level), weight decay \(String(describing: decay))")
    XCTAssertEqual(fastState.m.map(\.bitPattern), slowState.m.map(\.bitPattern))
    XCTAssertEqual(fastState.v.map(\.bitPattern), slowState.v.map(\.bitPattern))
    XCTAssertEqual(fastState.step, 20)
  }
}
