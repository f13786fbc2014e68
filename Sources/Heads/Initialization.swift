// Initial weights as Keras builds them by default: every Dense kernel glorot_uniform, every bias
// zero; drawn from SplitMix64 so the same seed gives the same model on every platform (Keras'
// own draws come from its backend's RNG and are not reproduced; only the distribution is).

import Foundation
import Support

extension MultiHeadModel {
  /// A model whose kernels are glorot_uniform, U[-limit, limit) with
  /// limit = sqrt(6 / (fan_in + fan_out)), and whose biases are zero.
  ///
  /// Draws come from `SplitMix64(seed: seed)`, one per kernel entry, in parameter order (head by
  /// head, layer by layer, each kernel row-major (in, out); for a head on some of the taps, its
  /// first kernel's rows of those columns only, in the order of `inputColumns`). Entry = Float((2u - 1) * limit) with
  /// u = `nextUnit()`, computed in Double and rounded once: bit-identical everywhere.
  public init(specs: [HeadSpec], inputWidth: Int, seed: UInt64) {
    let (slots, classVectors, count) = Self.layout(specs: specs, inputWidth: inputWidth)
    var parameters = [Float](repeating: 0, count: count)
    var generator = SplitMix64(seed: seed)
    for (h, head) in slots.enumerated() {
      for (l, slot) in head.enumerated() {
        // A head on some of the taps: its first layer is a Dense on those columns alone (fan_in
        // their width); the rows of the other columns are zero (HeadSpec.inputColumns).
        let rows = l == 0 ? specs[h].inputColumns ?? [0..<slot.inputs] : [0..<slot.inputs]
        let fanIn = rows.reduce(0) { $0 + $1.count }
        let limit = (6.0 / Double(fanIn + slot.outputs)).squareRoot()
        for row in rows.joined() {
          let start = slot.kernel.lowerBound + row * slot.outputs
          for i in start..<(start + slot.outputs) { parameters[i] = Float((2 * generator.nextUnit() - 1) * limit) }
        }
      }
      Self.initializeClassVectors(&parameters, classVectors[h], spec: specs[h], using: &generator)
    }
    self.init(specs: specs, inputWidth: inputWidth, parameters: parameters)
  }

  /// Class vectors of an embedding head (C, E): class c at angle 2 pi c / C on the unit circle in
  /// the first two dimensions, plus U[-0.05, 0.05) noise in every dimension (drawn after the
  /// head's kernels, row-major). Starting on the wheel's own circle gives the loss the right
  /// topology from step one (glorot would place them at random and leave the soft targets to
  /// untangle a random arrangement), radius 1 keeps the logits -|p - v|^2 O(1) for the small
  /// initial predictions, and the noise breaks the symmetry of the other E - 2 dimensions so
  /// training can use them. Draws as for kernels: bit-identical for a seed.
  static func initializeClassVectors(
    _ parameters: inout [Float], _ range: Range<Int>, spec: HeadSpec, using generator: inout SplitMix64
  ) {
    guard !range.isEmpty else { return }
    let classes = spec.wheelClasses.count
    let dimensions = spec.dimensions
    for c in 0..<classes {
      let angle = 2 * Double.pi * Double(c) / Double(classes)
      for k in 0..<dimensions {
        let base = k == 0 ? cos(angle) : k == 1 ? sin(angle) : 0
        parameters[range.lowerBound + c * dimensions + k] = Float(base + (2 * generator.nextUnit() - 1) * 0.05)
      }
    }
  }
}
