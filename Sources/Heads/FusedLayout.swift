// The training-time arrangement of a model's parameters: every head's FIRST Dense layer fused
// into one matrix, so one GEMM computes all heads' first layers for a batch and one GEMM all
// their kernel gradients.
//
// The model's own layout (MultiHeadModel.swift) stores each head's kernel (D, out_h) on its own;
// side by side they are not one matrix in row-major order (row i of the fused matrix is row i
// of every head's kernel). So training works on a permuted copy of the parameters:
//
//   [ W (D, T): row i = the first-layer kernels' rows i, head after head ]
//   [ b (T): the first-layer biases, head after head                     ]
//   [ everything else, in the model's order                              ]
//
// where T is the sum of the fused heads' first-layer widths. The optimisers are element-wise,
// so stepping the permuted buffer (and keeping their state in the same permutation) is the
// same arithmetic as stepping the model's buffer; `pack` and `unpack` move between the two.
// A head with dropout on its input (no hidden layers, `dropout > 0`) sees its own masked copy
// of x, so its first layer cannot share the product: it stays in "everything else".

/// Where each head's parameters sit in the packed (training) buffer.
struct FusedLayout: Sendable {
  let inputWidth: Int
  /// T: the fused product's width.
  let fusedWidth: Int
  /// Per head, the columns of the fused product that are its first layer; nil when the head's
  /// first layer is not fused.
  let fusedColumns: [Range<Int>?]
  /// Per head, per layer, kernel and bias in packed coordinates. For a fused first layer the
  /// kernel range is empty (its kernel is a column block of W) and the bias is its part of b.
  let slots: [[DenseSlot]]
  /// Per head, its class vectors (C, E) in packed coordinates.
  let classVectors: [Range<Int>]
  /// Packed position -> model index.
  let order: [Int]

  /// The fused W (D, T) is the first D x T entries, b (T) follows.
  var fusedKernel: Range<Int> { 0..<(inputWidth * fusedWidth) }
  var fusedBias: Range<Int> { fusedKernel.upperBound..<(fusedKernel.upperBound + fusedWidth) }

  init(model: MultiHeadModel) {
    let d = model.inputWidth
    let count = model.parameters.count
    var columns: [Range<Int>?] = []
    var width = 0
    for (h, spec) in model.specs.enumerated() {
      if spec.hasInputDropout {
        columns.append(nil)
      } else {
        let units = model.slots[h][0].outputs
        columns.append(width..<(width + units))
        width += units
      }
    }
    var order = [Int]()
    order.reserveCapacity(count)
    var taken = [Bool](repeating: false, count: count)
    let fused = model.specs.indices.filter { columns[$0] != nil }
    for i in 0..<d {
      for h in fused {
        let slot = model.slots[h][0]
        let row = (slot.kernel.lowerBound + i * slot.outputs)..<(slot.kernel.lowerBound + (i + 1) * slot.outputs)
        order.append(contentsOf: row)
      }
    }
    for h in fused { order.append(contentsOf: model.slots[h][0].bias) }
    for index in order { taken[index] = true }
    for index in 0..<count where !taken[index] { order.append(index) }
    var position = [Int](repeating: 0, count: count)
    for (p, index) in order.enumerated() { position[index] = p }
    func packed(_ range: Range<Int>) -> Range<Int> {
      range.isEmpty
        ? position.count..<position.count : position[range.lowerBound]..<(position[range.lowerBound] + range.count)
    }
    slots = model.slots.enumerated().map { h, layers in
      layers.enumerated().map { l, slot in
        let kernel = l == 0 && columns[h] != nil ? 0..<0 : packed(slot.kernel)
        return DenseSlot(inputs: slot.inputs, outputs: slot.outputs, kernel: kernel, bias: packed(slot.bias))
      }
    }
    classVectors = model.classVectorSlots.map(packed)
    inputWidth = d
    fusedWidth = width
    fusedColumns = columns
    self.order = order
  }

  /// The model's parameters in packed order.
  func pack(_ parameters: [Float]) -> [Float] { order.map { parameters[$0] } }

  /// Writes packed parameters back into the model's order.
  func unpack(_ packed: [Float], into parameters: inout [Float]) {
    precondition(packed.count == order.count && parameters.count == order.count)
    for (p, index) in order.enumerated() { parameters[index] = packed[p] }
  }
}

extension HeadSpec {
  /// Dropout applies to the head's input when it has no hidden layers (see `dropout`).
  var hasInputDropout: Bool { dropout > 0 && hidden.isEmpty }
}
