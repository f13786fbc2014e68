// One training step of a multi-head model on the fused layout (FusedLayout.swift): forward,
// losses, backward, optimiser update; every buffer allocated once per trainer.
//
// Shapes, row-major: x (B, D) the batch's features, given as B pointers to rows that stay where
// they are (rows of the feature matrix: never gathered into a batch buffer); Z and dZ (B, T)
// the fused first layers' outputs and their gradients; per head and layer (B, units)
// activations (post-ReLU, and post-dropout, for hidden layers; logits for the output layer) and
// their gradients. MultiHeadModel.lossAndGradient is the plain per-head reference this must
// agree with.

import Engine
import Support

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
    maskedInput = region(specs.contains { $0.readsOwnInput } ? d : 0)
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

  /// Per head, an embedding head's soft targets, computed once.
  let wheelTargets: [WheelTargets?]
  /// Where this trainer meets the other half of a split head (SplitHead.swift), if it holds one.
  var link: SplitLink?

  /// A trainer for every head of `model`.
  init(model: MultiHeadModel, capacity: Int, maskSeed: UInt64 = 0) {
    self.init(layout: FusedLayout(model: model), model: model, capacity: capacity, maskSeed: maskSeed)
  }

  /// A trainer for the heads, or parts of heads, `layout` holds of `model`.
  init(layout: FusedLayout, model: MultiHeadModel, capacity: Int, maskSeed: UInt64 = 0) {
    self.layout = layout
    specs = layout.heads.map { model.specs[$0] }
    parameters = layout.pack(model.parameters)
    gradients = [Float](repeating: 0, count: parameters.count)
    workspace = TrainingWorkspace(layout: layout, specs: specs, capacity: max(1, capacity))
    masks = layout.heads.map { SplitMix64(seed: maskSeed, stream: UInt64($0)) }
    wheelTargets = specs.map {
      $0.kind == .embedding ? WheelTargets(classes: $0.wheelClasses.count, sigma: $0.wheelSigma) : nil
    }
  }

  /// Puts the parameters this trainer holds into their places in the model's buffer.
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
        target.rowWeights.withUnsafeBufferPointer { rowWeights in
          precondition(rows.allSatisfy { $0 >= 0 && $0 < rowWeights.count && ($0 + 1) * width <= source.count })
          for (slot, row) in rows.enumerated() {
            (values.baseAddress! + slot * width).update(from: source.baseAddress! + row * width, count: width)
            weights[slot] = rowWeights[row]
          }
        }
      }
    }
  }

  /// One step on the batch whose rows are `rows` (B pointers to D features) and whose targets
  /// `setTargets` set: the batch's losses before the update, then `optimizer` applied to the
  /// packed parameters. Adam takes the fused kernel's gradient straight from the batch, a tile
  /// at a time (Optimizer.step(_:gradients:kernel:)); the other optimisers get it in `gradients`.
  mutating func step(_ rows: UnsafeBufferPointer<UnsafePointer<Float>>, optimizer: inout Optimizer) -> HeadLosses {
    let fuse = optimizer.fusesKernelGradient && layout.fusedWidth > 0
    let losses = lossAndGradient(rows, dropout: true, backward: true, kernelGradient: !fuse)
    guard fuse else {
      optimizer.step(&parameters, gradients: gradients)
      return losses
    }
    let (t, w) = (layout.fusedWidth, workspace)
    optimizer.step(
      &parameters, gradients: gradients,
      kernel: FusedKernel(
        range: layout.fusedKernel, rows: rows, dz: UnsafeBufferPointer(w.view(w.dz, rows.count * t)),
        inputs: layout.inputWidth, outputs: t))
    return losses
  }

  /// `step` on a batch stored as one matrix x (B, D).
  mutating func step(_ x: UnsafeBufferPointer<Float>, batch: Int, optimizer: inout Optimizer) -> HeadLosses {
    withRows(of: x, batch: batch) { step($0, optimizer: &optimizer) }
  }

  /// `lossAndGradient` on a batch stored as one matrix x (B, D).
  mutating func lossAndGradient(_ x: UnsafeBufferPointer<Float>, batch: Int, dropout: Bool, backward: Bool)
    -> HeadLosses
  {
    withRows(of: x, batch: batch) { lossAndGradient($0, dropout: dropout, backward: backward) }
  }

  /// Calls `body` with pointers to the first `batch` rows of x (B, D).
  private func withRows<R>(
    of x: UnsafeBufferPointer<Float>, batch: Int, _ body: (UnsafeBufferPointer<UnsafePointer<Float>>) -> R
  ) -> R {
    let d = layout.inputWidth
    precondition(batch >= 1 && x.count >= batch * d)
    let rows = (0..<batch).map { x.baseAddress! + $0 * d }
    return rows.withUnsafeBufferPointer(body)
  }

  /// Losses of the batch (rows: B pointers to D features) whose targets `setTargets` set, and
  /// with `backward` their gradient in `gradients` (overwritten; the fused kernel's part only
  /// with `kernelGradient`). Without `dropout`, no unit is dropped (validation). With a split
  /// head (`link`), the other group's trainer must be working on the same batch at the same
  /// time, on another thread: the two wait for each other once each.
  mutating func lossAndGradient(
    _ rows: UnsafeBufferPointer<UnsafePointer<Float>>, dropout: Bool, backward: Bool, kernelGradient: Bool = true
  ) -> HeadLosses {
    let d = layout.inputWidth
    let batch = rows.count
    precondition(batch >= 1 && batch <= workspace.capacity)
    let t = layout.fusedWidth
    let w = workspace
    let z = w.view(w.z, batch * t)
    let dz = w.view(w.dz, batch * t)
    var generators = masks
    var headLosses = [Double](repeating: 0, count: specs.count)
    let link = self.link
    // The owner of a split head does that head first: the helper waits for its gradient.
    let owned = link.flatMap { link in layout.heads.firstIndex(of: link.head) }
    let order = owned.map { [$0] + specs.indices.filter { $0 != owned } } ?? Array(specs.indices)
    parameters.withUnsafeBufferPointer { params in
      gradients.withUnsafeMutableBufferPointer { grads in
        // The fused kernel's gradient is overwritten (or not computed): zero the rest.
        if backward {
          UnsafeMutableBufferPointer(rebasing: grads[layout.fusedKernel.upperBound...]).initialize(repeating: 0)
        }
        if t > 0 {
          // Z (B, T) = x (B, D) . W (D, T) + b: every head's first layer at once.
          denseForwardRows(
            z, ldz: t, rows: rows, weight: UnsafeBufferPointer(rebasing: params[layout.fusedKernel]),
            bias: UnsafeBufferPointer(rebasing: params[layout.fusedBias]), batch: batch, inputs: d, outputs: t)
        }
        if let link, owned == nil { link.helperComputed() }
        for h in order {
          let spec = specs[h]
          let layers = layout.slots[h]
          let rate = dropout ? spec.dropout : 0
          let outputs = layers.indices.map { w.view(w.outputs[h][$0], batch * layers[$0].outputs) }
          let deltas = layers.indices.map { w.view(w.gradients[h][$0], batch * layers[$0].outputs) }
          let keeps = layers.indices.map { w.view(w.masks[h][$0], rate > 0 ? batch * layers[$0].outputs : 0) }
          let units = layout.heldUnits[h]
          let split = h == owned ? link : nil
          // An unfused first layer's input (B, D): x, with the columns the head does not read
          // zeroed and through its own dropout mask when training, gathered from the rows (the
          // fused product reads them in place).
          var input = UnsafeBufferPointer<Float>(start: nil, count: 0)
          if layout.fusedColumns[h] == nil {
            let gathered = w.view(w.maskedInput, batch * d)
            for (r, row) in rows.enumerated() { (gathered.baseAddress! + r * d).update(from: row, count: d) }
            spec.zeroIgnoredColumns(gathered, rows: batch, width: d)
            if rate > 0 {
              let keep = w.view(w.inputMask, batch * d)
              drawMask(keep, rate: rate, using: &generators[h])
              dropoutForward(gathered, UnsafeBufferPointer(gathered), keep: UnsafeBufferPointer(keep), rate: rate)
            }
            input = UnsafeBufferPointer(gathered)
          }
          for (l, slot) in layers.enumerated() {
            if l == 0, let columns = layout.fusedColumns[h] {
              copyColumns(
                rows: batch, from: UnsafeBufferPointer(z), width: t, columns: columns, into: outputs[0],
                width: slot.outputs, at: units.lowerBound)
              if let split {
                // The units the helper holds, once it has computed them.
                split.ownerWaitsForHelper()
                let (helperZ, helperWidth, helperColumns) = split.helperOutputs(batch: batch)
                copyColumns(
                  rows: batch, from: helperZ, width: helperWidth, columns: helperColumns, into: outputs[0],
                  width: slot.outputs, at: split.remoteUnits.lowerBound)
                if !backward { split.ownerConsumed() }
              }
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
          headLosses[h] = headLossAndGradient(
            spec: spec, logits: UnsafeBufferPointer(outputs[last]), dLogits: deltas[last],
            labels: UnsafeBufferPointer(w.view(w.targetValues[h], batch * width)),
            rowWeights: UnsafeBufferPointer(w.view(w.rowWeights[h], batch)), batch: batch,
            classVectors: UnsafeBufferPointer(rebasing: params[layout.classVectors[h]]),
            dClassVectors: UnsafeMutableBufferPointer(rebasing: grads[layout.classVectors[h]]),
            wheelTargets: wheelTargets[h])
          if !backward { continue }
          for l in stride(from: last, through: 0, by: -1) {
            let slot = layers[l]
            if l == 0, let columns = layout.fusedColumns[h] {
              copyColumns(
                rows: batch, from: UnsafeBufferPointer(deltas[0]), width: slot.outputs,
                columns: units, into: dz, width: t, at: columns.lowerBound)
              if let split {
                let (helperDZ, helperWidth, helperColumns) = split.helperGradients(batch: batch)
                copyColumns(
                  rows: batch, from: UnsafeBufferPointer(deltas[0]), width: slot.outputs, columns: split.remoteUnits,
                  into: helperDZ, width: helperWidth, at: helperColumns.lowerBound)
                split.ownerConsumed()
              }
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
        // The helper's slice columns of dZ are the owner's to write: wait for them (and, without
        // backward, until the owner has read this block's Z, which the next block overwrites).
        if let link, owned == nil { link.helperWaitsForOwner() }
        if t > 0 && backward {
          // db = column sums of dZ; dW (D, T) = x^T dZ: every head's first-layer gradient.
          let db = UnsafeMutableBufferPointer(rebasing: grads[layout.fusedBias])
          for r in 0..<batch {
            for j in 0..<t { db[j] += dz[r * t + j] }
          }
          if kernelGradient {
            denseKernelGradientRows(
              UnsafeMutableBufferPointer(rebasing: grads[layout.fusedKernel]), rows: rows, dz: UnsafeBufferPointer(dz),
              ldz: t, batch: batch, inputs: d, outputs: t)
          }
        }
      }
    }
    if dropout { masks = generators }
    // The total in head order, whatever order the heads were done in.
    var total = 0.0
    for (h, spec) in specs.enumerated() { total += headLosses[h] * Double(spec.lossWeight) }
    return HeadLosses(heads: headLosses, total: total)
  }
}

/// Columns `columns` of `source` (rows, sourceWidth) into columns `offset ..< offset +
/// columns.count` of `target` (rows, targetWidth).
private func copyColumns(
  rows: Int, from source: UnsafeBufferPointer<Float>, width sourceWidth: Int, columns: Range<Int>,
  into target: UnsafeMutableBufferPointer<Float>, width targetWidth: Int, at offset: Int
) {
  let n = columns.count
  precondition(offset + n <= targetWidth && columns.upperBound <= sourceWidth)
  precondition(source.count >= rows * sourceWidth && target.count >= rows * targetWidth)
  for r in 0..<rows {
    (target.baseAddress! + r * targetWidth + offset).update(
      from: source.baseAddress! + r * sourceWidth + columns.lowerBound, count: n)
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
