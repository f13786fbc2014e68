// One training step of a multi-head model on the fused layout (FusedLayout.swift): gather the
// batch, forward, losses, backward, optimiser update; every buffer allocated once per trainer.
//
// Shapes, row-major: x (B, D) the batch's features; Z and dZ (B, T) the fused first layers'
// outputs and their gradients; per head and layer (B, units) activations (post-ReLU, and
// post-dropout, for hidden layers; logits for the output layer) and their gradients.
// MultiHeadModel.lossAndGradient is the plain per-head reference this must agree with.

import Engine

/// Scratch buffers for batches of up to `capacity` rows. A class so the one allocation is freed
/// with it; views into it are lent only inside `FusedTrainer`'s methods.
final class TrainingWorkspace {
  let capacity: Int
  private let storage: UnsafeMutableBufferPointer<Float>
  /// Region offsets (in rows of their width): Z, dZ, the masked input of input-dropout heads
  /// and its mask, then per head per layer outputs, gradients, masks, then per head targets.
  let z: Int, dz: Int, maskedInput: Int, inputMask: Int
  let outputs: [[Int]], gradients: [[Int]], masks: [[Int]]
  let targetValues: [Int], rowWeights: [Int]

  init(layout: FusedLayout, specs: [HeadSpec], capacity: Int) {
    self.capacity = capacity
    var size = 0
    func region(_ width: Int) -> Int {
      defer { size += capacity * width }
      return size
    }
    let d = layout.inputWidth
    z = region(layout.fusedWidth)
    dz = region(layout.fusedWidth)
    let anyInputDropout = specs.contains { $0.hasInputDropout }
    maskedInput = region(anyInputDropout ? d : 0)
    inputMask = region(anyInputDropout ? d : 0)
    outputs = layout.slots.map { $0.map { region($0.outputs) } }
    gradients = layout.slots.map { $0.map { region($0.outputs) } }
    masks = zip(layout.slots, specs).map { layers, spec in
      layers.map { region(spec.dropout > 0 ? $0.outputs : 0) }
    }
    targetValues = specs.map { region($0.targetWidth) }
    rowWeights = specs.map { _ in region(1) }
    storage = .allocate(capacity: size)
    storage.initialize(repeating: 0)
  }

  deinit { storage.deallocate() }

  /// `count` floats from `offset`.
  func view(_ offset: Int, _ count: Int) -> UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(rebasing: storage[offset..<(offset + count)])
  }
}

/// Trains a model in the fused layout: holds the packed parameters, their gradient and the
/// workspace; `write(into:)` puts the parameters back into the model.
struct FusedTrainer {
  let layout: FusedLayout
  let specs: [HeadSpec]
  /// The model's parameters in packed order.
  var parameters: [Float]
  var gradients: [Float]
  let workspace: TrainingWorkspace
  /// Each head's dropout masks' random stream: SplitMix64(maskSeed, stream: the head's number
  /// in `streams`), so a head's masks do not depend on which other heads train beside it.
  var masks: [SplitMix64]

  init(model: MultiHeadModel, capacity: Int, maskSeed: UInt64 = 0, streams: [Int]? = nil) {
    layout = FusedLayout(model: model)
    specs = model.specs
    parameters = layout.pack(model.parameters)
    gradients = [Float](repeating: 0, count: parameters.count)
    workspace = TrainingWorkspace(layout: layout, specs: specs, capacity: max(1, capacity))
    masks = (streams ?? Array(model.specs.indices)).map { SplitMix64(seed: maskSeed, stream: UInt64($0)) }
  }

  func write(into model: inout MultiHeadModel) { layout.unpack(parameters, into: &model.parameters) }

  /// Copies rows `rows` of every head's targets (`targets[h]` for this trainer's head h) into
  /// the batch's target buffers, in order.
  func setTargets(rows: UnsafeBufferPointer<Int>, from targets: [HeadTargets]) {
    precondition(rows.count <= workspace.capacity && targets.count == specs.count)
    for (h, target) in targets.enumerated() {
      let width = specs[h].targetWidth
      let values = workspace.view(workspace.targetValues[h], rows.count * width)
      let weights = workspace.view(workspace.rowWeights[h], rows.count)
      target.values.withUnsafeBufferPointer { source in
        for (slot, row) in rows.enumerated() {
          for j in 0..<width { values[slot * width + j] = source[row * width + j] }
        }
      }
      for (slot, row) in rows.enumerated() { weights[slot] = target.rowWeights[row] }
    }
  }

  /// One step on the batch x (B, D) whose targets `setTargets` set: the batch's losses before
  /// the update, then `optimizer` applied to the packed parameters.
  mutating func step(_ x: UnsafeBufferPointer<Float>, batch: Int, optimizer: inout Optimizer) -> HeadLosses {
    let losses = lossAndGradient(x, batch: batch, dropout: true, backward: true)
    optimizer.step(&parameters, gradients: gradients)
    return losses
  }

  /// Losses of the batch x (B, D) whose targets `setTargets` set, and with `backward` their
  /// gradient in `gradients` (overwritten). Without `dropout`, no unit is dropped (validation).
  mutating func lossAndGradient(_ x: UnsafeBufferPointer<Float>, batch: Int, dropout: Bool, backward: Bool)
    -> HeadLosses
  {
    let d = layout.inputWidth
    precondition(batch >= 1 && batch <= workspace.capacity && x.count >= batch * d)
    let x = UnsafeBufferPointer(rebasing: x[0..<(batch * d)])  // the batch's rows of a larger buffer
    let t = layout.fusedWidth
    let w = workspace
    let z = w.view(w.z, batch * t)
    let dz = w.view(w.dz, batch * t)
    var generators = masks
    var headLosses = [Double](repeating: 0, count: specs.count)
    var total = 0.0
    parameters.withUnsafeBufferPointer { params in
      gradients.withUnsafeMutableBufferPointer { grads in
        if backward { grads.initialize(repeating: 0) }
        if t > 0 {
          // Z (B, T) = x (B, D) . W (D, T) + b: every head's first layer at once.
          denseForward(
            z, x, weight: UnsafeBufferPointer(rebasing: params[layout.fusedKernel]),
            bias: UnsafeBufferPointer(rebasing: params[layout.fusedBias]), batch: batch, inFeatures: d,
            outFeatures: t)
        }
        for (h, spec) in specs.enumerated() {
          let layers = layout.slots[h]
          let rate = dropout ? spec.dropout : 0
          let outputs = layers.indices.map { w.view(w.outputs[h][$0], batch * layers[$0].outputs) }
          let deltas = layers.indices.map { w.view(w.gradients[h][$0], batch * layers[$0].outputs) }
          let keeps = layers.indices.map { w.view(w.masks[h][$0], rate > 0 ? batch * layers[$0].outputs : 0) }
          // The first layer's input: x, or x through this head's own dropout mask.
          var input = x
          if spec.hasInputDropout && rate > 0 {
            let masked = w.view(w.maskedInput, batch * d)
            let keep = w.view(w.inputMask, batch * d)
            drawMask(keep, rate: rate, using: &generators[h])
            masked.initialize(repeating: 0)
            dropoutForward(masked, x, keep: UnsafeBufferPointer(keep), rate: rate)
            input = UnsafeBufferPointer(masked)
          }
          for (l, slot) in layers.enumerated() {
            if l == 0, let columns = layout.fusedColumns[h] {
              copyColumns(outputs[0], from: UnsafeBufferPointer(z), columns: columns, width: t, rows: batch)
            } else {
              denseForward(
                outputs[l], l == 0 ? input : UnsafeBufferPointer(outputs[l - 1]),
                weight: UnsafeBufferPointer(rebasing: params[slot.kernel]),
                bias: UnsafeBufferPointer(rebasing: params[slot.bias]), batch: batch, inFeatures: slot.inputs,
                outFeatures: slot.outputs)
            }
            if l < layers.count - 1 {
              reluForward(outputs[l], UnsafeBufferPointer(outputs[l]))
              if rate > 0 {
                drawMask(keeps[l], rate: rate, using: &generators[h])
                scaleByMask(outputs[l], keeps[l], rate: rate)
              }
            }
          }
          let last = layers.count - 1
          let width = spec.targetWidth
          let loss = headLossAndGradient(
            spec: spec, logits: UnsafeBufferPointer(outputs[last]), dLogits: deltas[last],
            labels: UnsafeBufferPointer(w.view(w.targetValues[h], batch * width)),
            rowWeights: UnsafeBufferPointer(w.view(w.rowWeights[h], batch)), batch: batch,
            classVectors: UnsafeBufferPointer(rebasing: params[layout.classVectors[h]]),
            dClassVectors: UnsafeMutableBufferPointer(rebasing: grads[layout.classVectors[h]]))
          headLosses[h] = loss
          total += loss * Double(spec.lossWeight)
          if !backward { continue }
          for l in stride(from: last, through: 0, by: -1) {
            let slot = layers[l]
            if l == 0, let columns = layout.fusedColumns[h] {
              copyColumns(into: dz, UnsafeBufferPointer(deltas[0]), columns: columns, width: t, rows: batch)
              break
            }
            let below: UnsafeMutableBufferPointer<Float>? = l > 0 ? deltas[l - 1] : nil
            below?.initialize(repeating: 0)
            denseBackward(
              dx: below, dWeight: UnsafeMutableBufferPointer(rebasing: grads[slot.kernel]),
              dBias: UnsafeMutableBufferPointer(rebasing: grads[slot.bias]), dy: UnsafeBufferPointer(deltas[l]),
              x: l > 0 ? UnsafeBufferPointer(outputs[l - 1]) : input,
              weight: UnsafeBufferPointer(rebasing: params[slot.kernel]), batch: batch, inFeatures: slot.inputs,
              outFeatures: slot.outputs)
            if let below {
              // Through the dropout and the ReLU of the layer below: zero where a unit was dropped
              // or its ReLU output was not positive (dropped units have output 0 too).
              if rate > 0 { scaleByMask(below, keeps[l - 1], rate: rate) }
              let y = outputs[l - 1]
              for i in 0..<below.count where y[i] <= 0 { below[i] = 0 }
            }
          }
        }
        if t > 0 && backward {
          // dW (D, T) += x^T dZ, db += column sums of dZ: every head's first-layer kernel gradient.
          denseBackward(
            dx: nil, dWeight: UnsafeMutableBufferPointer(rebasing: grads[layout.fusedKernel]),
            dBias: UnsafeMutableBufferPointer(rebasing: grads[layout.fusedBias]), dy: UnsafeBufferPointer(dz), x: x,
            weight: UnsafeBufferPointer(rebasing: params[layout.fusedKernel]), batch: batch, inFeatures: d,
            outFeatures: t)
        }
      }
    }
    if dropout { masks = generators }
    return HeadLosses(heads: headLosses, total: total)
  }
}

/// out (rows, columns.count) = the given columns of z (rows, width).
private func copyColumns(
  _ out: UnsafeMutableBufferPointer<Float>, from z: UnsafeBufferPointer<Float>, columns: Range<Int>, width: Int,
  rows: Int
) {
  let n = columns.count
  for r in 0..<rows {
    for j in 0..<n { out[r * n + j] = z[r * width + columns.lowerBound + j] }
  }
}

/// The given columns of dz (rows, width) = delta (rows, columns.count).
private func copyColumns(
  into dz: UnsafeMutableBufferPointer<Float>, _ delta: UnsafeBufferPointer<Float>, columns: Range<Int>, width: Int,
  rows: Int
) {
  let n = columns.count
  for r in 0..<rows {
    for j in 0..<n { dz[r * width + columns.lowerBound + j] = delta[r * n + j] }
  }
}

/// keep[i] = 1 with probability 1 - rate, else 0: one `nextUnit()` draw per unit, kept when the
/// draw is >= rate, so a seed always gives the same masks.
func drawMask(_ keep: UnsafeMutableBufferPointer<Float>, rate: Float, using generator: inout SplitMix64) {
  let threshold = Double(rate)
  for i in 0..<keep.count { keep[i] = generator.nextUnit() >= threshold ? 1 : 0 }
}

/// values *= keep / (1 - rate), in place: inverted dropout as Keras scales it.
private func scaleByMask(
  _ values: UnsafeMutableBufferPointer<Float>, _ keep: UnsafeMutableBufferPointer<Float>, rate: Float
) {
  let scale = 1 / (1 - rate)
  for i in 0..<values.count { values[i] *= keep[i] * scale }
}
