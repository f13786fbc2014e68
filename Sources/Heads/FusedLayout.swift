// The training-time arrangement of a model's parameters: every head's FIRST Dense layer fused
// into one matrix, so one product computes all heads' first layers for a batch and one product
// all their kernel gradients.
//
// The model's own layout (MultiHeadModel.swift) stores each head's kernel (D, out_h) on its own,
// as Keras does. Training works on a permuted copy of the parameters:
//
//   [ W (D, T): row p = input p's weights of every fused unit, head after head             ]
//   [ b (T): the first-layer biases, head after head                                      ]
//   [ everything else of the trained heads, in the model's order                          ]
//
// where T is the sum of the fused heads' first-layer widths: the heads' kernels (D, out_h) side
// by side, as Keras stores each of them. The products (Engine/DenseRows.swift) run their vectors
// along a row of W, the units, and broadcast one input at a time. The optimisers are element-wise, so stepping
// the permuted buffer (and keeping their state in the same permutation) is the same arithmetic
// as stepping the model's buffer; `pack` and `unpack` move between the two.
// A head with dropout on its input (no hidden layers, `dropout > 0`) or reading only some of
// the taps (`inputColumns`) sees its own masked copy of x, so its first layer cannot share the
// product: it stays in "everything else".
//
// A layout may hold only some heads of a model (a group of HeadsTrainer), and of one head only
// some first-layer units: a head too wide for one thread is split by units (columns of its
// first-layer kernel) between two groups (SplitHead.swift). The group that trains the rest of
// the head (its "tail": later layers, loss, class vectors) holds units 0 ..< k, the other group
// holds units k ..< n as a slice: columns of its W that no head of its own reads.

/// The part of head `head` a layout holds: first-layer units `units` and, with `tail`, all the
/// rest of the head. A whole head is `units` = all of them with `tail`.
struct HeadShare: Sendable, Equatable {
  var head: Int
  var units: Range<Int>
  var tail: Bool
}

/// Where each trained head's parameters sit in the packed (training) buffer.
struct FusedLayout: Sendable {
  let inputWidth: Int
  /// T: the fused product's width.
  let fusedWidth: Int
  /// The model's heads this layout trains (those with their tail here), in order; "head h" of
  /// the fields below is `heads[h]` of the model.
  let heads: [Int]
  /// Per head, the columns of the fused product that are its first layer (the units it holds
  /// here); nil when the head's first layer is not fused.
  let fusedColumns: [Range<Int>?]
  /// Per head, the first-layer units held here: all of them unless the head is split.
  let heldUnits: [Range<Int>]
  /// Columns of the fused product (and of W) that belong to a head trained by another layout
  /// (a split head's units k ..< n), with the head's model index.
  let slices: [(head: Int, columns: Range<Int>)]
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

  /// Every head of `model`, whole.
  init(model: MultiHeadModel) {
    self.init(model: model, shares: model.specs.indices.map { HeadShare(head: $0, units: model.units($0), tail: true) })
  }

  /// The given shares of `model`'s heads (each head at most once; a share without tail must
  /// be of a head whose first layer is fused).
  init(model: MultiHeadModel, shares: [HeadShare]) {
    let d = model.inputWidth
    // Fused entries in share order: (share, columns).
    var columnsOf = [Range<Int>?](repeating: nil, count: shares.count)
    var width = 0
    for (s, share) in shares.enumerated() where !model.specs[share.head].readsOwnInput {
      columnsOf[s] = width..<(width + share.units.count)
      width += share.units.count
    }
    for (s, share) in shares.enumerated() {
      precondition(
        share.units == model.units(share.head) || columnsOf[s] != nil, "only a fused first layer can be split")
    }
    var order = [Int]()
    let fused = shares.indices.filter { columnsOf[$0] != nil }
    order.reserveCapacity(d * width)
    for p in 0..<d {
      for s in fused {
        let slot = model.slots[shares[s].head][0]
        let row = slot.kernel.lowerBound + p * slot.outputs
        order.append(contentsOf: (row + shares[s].units.lowerBound)..<(row + shares[s].units.upperBound))
      }
    }
    for s in fused {
      let bias = model.slots[shares[s].head][0].bias.lowerBound
      order.append(contentsOf: (bias + shares[s].units.lowerBound)..<(bias + shares[s].units.upperBound))
    }
    // Everything else of the heads trained here, in the model's order.
    for (s, share) in shares.enumerated() where share.tail {
      let layers = model.slots[share.head]
      for (l, slot) in layers.enumerated() where l > 0 || columnsOf[s] == nil {
        order.append(contentsOf: slot.kernel)
        order.append(contentsOf: slot.bias)
      }
      order.append(contentsOf: model.classVectorSlots[share.head])
    }
    var position = [Int](repeating: -1, count: model.parameters.count)
    for (p, index) in order.enumerated() { position[index] = p }
    func packed(_ range: Range<Int>) -> Range<Int> {
      range.isEmpty
        ? order.count..<order.count : position[range.lowerBound]..<(position[range.lowerBound] + range.count)
    }
    let tails = shares.indices.filter { shares[$0].tail }
    heads = tails.map { shares[$0].head }
    heldUnits = tails.map { shares[$0].units }
    fusedColumns = tails.map { columnsOf[$0] }
    slices = shares.indices.filter { !shares[$0].tail }.map { (shares[$0].head, columnsOf[$0]!) }
    slots = tails.map { s in
      let share = shares[s]
      return model.slots[share.head].enumerated().map { l, slot in
        guard l == 0, let columns = columnsOf[s] else {
          return DenseSlot(
            inputs: slot.inputs, outputs: slot.outputs, kernel: packed(slot.kernel), bias: packed(slot.bias))
        }
        let bias = width * d + columns.lowerBound
        return DenseSlot(inputs: slot.inputs, outputs: slot.outputs, kernel: 0..<0, bias: bias..<(bias + columns.count))
      }
    }
    classVectors = tails.map { packed(model.classVectorSlots[shares[$0].head]) }
    inputWidth = d
    fusedWidth = width
    self.order = order
  }

  /// The model's parameters in packed order.
  func pack(_ parameters: [Float]) -> [Float] { order.map { parameters[$0] } }

  /// Writes packed parameters back into their places in the model's order (all of them when the
  /// layout holds every head whole; this layout's share otherwise).
  func unpack(_ packed: [Float], into parameters: inout [Float]) {
    precondition(packed.count == order.count)
    for (p, index) in order.enumerated() { parameters[index] = packed[p] }
  }
}

extension HeadSpec {
  /// Dropout applies to the head's input when it has no hidden layers (see `dropout`).
  var hasInputDropout: Bool { dropout > 0 && hidden.isEmpty }
  /// Whether the head's first layer reads its own copy of the input (input dropout, or only some
  /// of the taps), so it cannot share the fused product.
  var readsOwnInput: Bool { hasInputDropout || inputColumns != nil }
}

extension MultiHeadModel {
  /// All first-layer units of head `h`.
  func units(_ h: Int) -> Range<Int> { 0..<slots[h][0].outputs }
}
