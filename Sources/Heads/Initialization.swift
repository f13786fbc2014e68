// Initial weights as Keras builds them by default: every Dense kernel glorot_uniform, every bias
// zero; drawn from SplitMix64 so the same seed gives the same model on every platform (Keras'
// own draws come from its backend's RNG and are not reproduced; only the distribution is).

extension MultiHeadModel {
  /// A model whose kernels are glorot_uniform, U[-limit, limit) with
  /// limit = sqrt(6 / (fan_in + fan_out)), and whose biases are zero.
  ///
  /// Draws come from `SplitMix64(seed: seed)`, one per kernel entry, in parameter order (head by
  /// head, layer by layer, each kernel row-major (in, out)). Entry = Float((2u - 1) * limit) with
  /// u = `nextUnit()`, computed in Double and rounded once: bit-identical everywhere.
  public init(specs: [HeadSpec], inputWidth: Int, seed: UInt64) {
    let (slots, count) = Self.layout(specs: specs, inputWidth: inputWidth)
    var parameters = [Float](repeating: 0, count: count)
    var generator = SplitMix64(seed: seed)
    for head in slots {
      for slot in head {
        let limit = (6.0 / Double(slot.inputs + slot.outputs)).squareRoot()
        for i in slot.kernel { parameters[i] = Float((2 * generator.nextUnit() - 1) * limit) }
      }
    }
    self.init(specs: specs, inputWidth: inputWidth, parameters: parameters)
  }
}
