// A dense layer's two products with a batch whose rows stay where they are (rows of the cached
// feature matrix), for training heads: CKernels' hs_dense_forward_rows / hs_dense_backward_rows
// in the widest build the CPU allows, and their naive references.
//
// Layouts, row-major: rows (B) pointers to B rows of `inputs` floats; the kernel as Keras stores
// it, w (inputs, outputs): row p is input p's weights of every unit; bias (outputs); z and dz (B,
// outputs) with row stride ldz.
//
// Why not BLAS: sgemm needs the batch as one matrix, so every step copied its 32 rows (8 KB
// each, far apart in a 160 MB matrix) into a buffer, then packed that buffer and the kernel
// again, twice (forward, and x^T dz backward), and the optimiser read the gradient back from
// memory. With vectors along the units and one input broadcast at a time, both products read the
// rows in place, each row once per step, and the kernel gradient can be applied by Adam a block
// of inputs at a time, never stored whole.
import CKernels

/// z (B, outputs) = bias + x (B, inputs) w, x's rows read through `rows`.
public func denseForwardRows(
  _ z: UnsafeMutableBufferPointer<Float>, ldz: Int, rows: UnsafeBufferPointer<UnsafePointer<Float>>,
  weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>, batch: Int, inputs: Int, outputs: Int
) {
  precondition(rows.count >= batch && weight.count >= outputs * inputs && bias.count >= outputs)
  precondition(ldz >= outputs && z.count >= (batch - 1) * ldz + outputs)
  guard batch > 0, outputs > 0 else { return }
  hs_dense_forward_rows(
    Int32(batch), Int32(outputs), Int32(inputs), cRows(rows), weight.baseAddress!, bias.baseAddress!,
    z.baseAddress!, Int32(ldz))
}

/// dw (inputs, outputs) = x^T dz: the kernel's gradient, stored (overwriting).
public func denseKernelGradientRows(
  _ dWeight: UnsafeMutableBufferPointer<Float>, rows: UnsafeBufferPointer<UnsafePointer<Float>>,
  dz: UnsafeBufferPointer<Float>, ldz: Int, batch: Int, inputs: Int, outputs: Int
) {
  precondition(rows.count >= batch && dWeight.count >= outputs * inputs)
  precondition(ldz >= outputs && dz.count >= (batch - 1) * ldz + outputs)
  guard outputs > 0, inputs > 0 else { return }
  hs_dense_backward_rows(
    Int32(batch), Int32(outputs), Int32(inputs), cRows(rows), dz.baseAddress!, Int32(ldz),
    dWeight.baseAddress!, nil, nil, nil, nil)
}

/// One Adam step of the kernel w with moments m and v (all (inputs, outputs)) from the gradient
/// x^T dz, computed and applied a block of inputs at a time: the same update as
/// `denseKernelGradientRows` followed by `adamUpdate`, without the gradient's trip through
/// memory. Does not count the step (the caller's MomentState does).
public func adamUpdateDenseRows(
  weight: UnsafeMutableBufferPointer<Float>, m: UnsafeMutableBufferPointer<Float>,
  v: UnsafeMutableBufferPointer<Float>, rows: UnsafeBufferPointer<UnsafePointer<Float>>,
  dz: UnsafeBufferPointer<Float>, ldz: Int, batch: Int, inputs: Int, outputs: Int, _ coefficients: AdamCoefficients
) {
  let count = outputs * inputs
  precondition(rows.count >= batch && weight.count >= count && m.count >= count && v.count >= count)
  precondition(ldz >= outputs && dz.count >= (batch - 1) * ldz + outputs)
  guard count > 0 else { return }
  var c = coefficients.c
  hs_dense_backward_rows(
    Int32(batch), Int32(outputs), Int32(inputs), cRows(rows), dz.baseAddress!, Int32(ldz), nil,
    weight.baseAddress!, m.baseAddress!, v.baseAddress!, &c)
}

/// The definition of `denseForwardRows`, with float64 sums; the reference for tests.
public func denseForwardRowsNaive(
  _ z: UnsafeMutableBufferPointer<Float>, ldz: Int, rows: UnsafeBufferPointer<UnsafePointer<Float>>,
  weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>, batch: Int, inputs: Int, outputs: Int
) {
  for r in 0..<batch {
    for j in 0..<outputs {
      var s = 0.0
      for i in 0..<inputs { s += Double(rows[r][i]) * Double(weight[i * outputs + j]) }
      z[r * ldz + j] = Float(Double(bias[j]) + s)
    }
  }
}

/// The definition of `denseKernelGradientRows`, with float64 sums; the reference for tests.
public func denseKernelGradientRowsNaive(
  _ dWeight: UnsafeMutableBufferPointer<Float>, rows: UnsafeBufferPointer<UnsafePointer<Float>>,
  dz: UnsafeBufferPointer<Float>, ldz: Int, batch: Int, inputs: Int, outputs: Int
) {
  for j in 0..<outputs {
    for i in 0..<inputs {
      var s = 0.0
      for r in 0..<batch { s += Double(dz[r * ldz + j]) * Double(rows[r][i]) }
      dWeight[i * outputs + j] = Float(s)
    }
  }
}

/// The row pointers as C sees them (`const float *const *`): an optional pointer has the same
/// layout as a pointer.
@inline(__always)
private func cRows(_ rows: UnsafeBufferPointer<UnsafePointer<Float>>) -> UnsafePointer<UnsafePointer<Float>?> {
  UnsafeRawPointer(rows.baseAddress!).assumingMemoryBound(to: UnsafePointer<Float>?.self)
}
