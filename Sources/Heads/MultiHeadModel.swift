// Several heads on the same cached features, trained together as one Keras model would be:
// the total loss is the sum of each head's loss times its loss weight.
//
// Features (B, D) row-major; every Dense kernel is (in, out) in Keras' layout. All parameters
// live in one flat buffer, head by head in the order given, each layer's kernel then bias; an
// embedding head's class vectors (C, E) follow its last Dense layer. (Keras' `model.weights`
// orders a functional model by depth, not head by head, once heads have hidden layers: match
// Keras weights by layer name, as the heads file does, never by position.)

import Engine

/// Where one Dense layer's parameters sit in the flat buffer.
struct DenseSlot: Sendable {
  var inputs: Int
  var outputs: Int
  var kernel: Range<Int>
  var bias: Range<Int>
}

/// Per-head and total losses of one batch or epoch.
public struct HeadLosses: Sendable, Equatable {
  /// Unweighted loss of each head, in head order (Keras' `<name>_loss`).
  public var heads: [Double]
  /// Sum of the heads' losses times their loss weights (Keras' `loss`).
  public var total: Double
}

/// A multi-head model over features of width `inputWidth`.
public struct MultiHeadModel: Sendable {
  public let specs: [HeadSpec]
  public let inputWidth: Int
  /// Every parameter, one allocation; see the file comment for the order.
  public var parameters: [Float]
  let slots: [[DenseSlot]]
  /// Per head, where its class vectors (C, E) sit; empty for heads without any.
  let classVectorSlots: [Range<Int>]

  /// The number of parameters `specs` on features of width `inputWidth` need.
  public static func parameterCount(specs: [HeadSpec], inputWidth: Int) -> Int {
    layout(specs: specs, inputWidth: inputWidth).count
  }

  static func layout(specs: [HeadSpec], inputWidth: Int) -> (
    slots: [[DenseSlot]], classVectors: [Range<Int>], count: Int
  ) {
    var offset = 0
    var slots: [[DenseSlot]] = []
    var classVectors: [Range<Int>] = []
    for spec in specs {
      var width = inputWidth
      var head: [DenseSlot] = []
      for units in spec.hidden + [spec.outputs] {
        let kernel = offset..<(offset + width * units)
        let bias = kernel.upperBound..<(kernel.upperBound + units)
        head.append(DenseSlot(inputs: width, outputs: units, kernel: kernel, bias: bias))
        offset = bias.upperBound
        width = units
      }
      slots.append(head)
      let vectors = spec.kind == .embedding ? spec.wheelClasses.count * spec.dimensions : 0
      classVectors.append(offset..<(offset + vectors))
      offset += vectors
    }
    return (slots, classVectors, offset)
  }

  /// A model with the given parameters (e.g. initial weights shared with Keras).
  public init(specs: [HeadSpec], inputWidth: Int, parameters: [Float]) {
    let (slots, classVectors, count) = Self.layout(specs: specs, inputWidth: inputWidth)
    precondition(parameters.count == count, "expected \(count) parameters, got \(parameters.count)")
    self.specs = specs
    self.inputWidth = inputWidth
    self.parameters = parameters
    self.slots = slots
    self.classVectorSlots = classVectors
  }

  /// Forward and backward over one batch: returns the batch's losses (before any update) and
  /// ACCUMULATES the gradient of the total loss into `gradients` (same layout as `parameters`).
  /// `rows` selects the batch from `features` (N, D) and from each head's targets.
  /// With `dFeatures` (B, D), the gradient of the total loss with respect to the batch's
  /// feature rows is ACCUMULATED into it too (fine-tuning trains what computes the features).
  public func lossAndGradient(
    features: UnsafeBufferPointer<Float>, targets: [HeadTargets], rows: Range<Int>,
    gradients: UnsafeMutableBufferPointer<Float>, dFeatures: UnsafeMutableBufferPointer<Float>? = nil
  ) -> HeadLosses {
    precondition(targets.count == specs.count && gradients.count == parameters.count)
    precondition(dFeatures == nil || dFeatures!.count >= rows.count * inputWidth, "dFeatures too small")
    let batch = rows.count
    // x is (B, D), a view of the batch's rows.
    let x = UnsafeBufferPointer(rebasing: features[(rows.lowerBound * inputWidth)..<(rows.upperBound * inputWidth)])
    var headLosses: [Double] = []
    var total = 0.0
    parameters.withUnsafeBufferPointer { params in
      for (h, spec) in specs.enumerated() {
        let layers = slots[h]
        // Per layer (B, units): post-ReLU activations of hidden layers, logits of the output layer;
        // and one gradient buffer of the same size per layer.
        let outputs = layers.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: batch * $0.outputs) }
        let grads = layers.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: batch * $0.outputs) }
        // A head on some of the taps reads x with the other columns zeroed (HeadSpec.inputColumns).
        let masked = UnsafeMutableBufferPointer<Float>.allocate(capacity: spec.inputColumns == nil ? 0 : x.count)
        defer {
          for buffer in outputs + grads + [masked] { buffer.deallocate() }
        }
        var headInput = x
        if spec.inputColumns != nil {
          _ = masked.initialize(fromContentsOf: x)
          spec.zeroIgnoredColumns(masked, rows: batch, width: inputWidth)
          headInput = UnsafeBufferPointer(masked)
        }
        for (l, slot) in layers.enumerated() {
          let input = l == 0 ? headInput : UnsafeBufferPointer(outputs[l - 1])
          denseForward(
            outputs[l], input, weight: UnsafeBufferPointer(rebasing: params[slot.kernel]),
            bias: UnsafeBufferPointer(rebasing: params[slot.bias]), batch: batch, inFeatures: slot.inputs,
            outFeatures: slot.outputs)
          if l < layers.count - 1 { reluForward(outputs[l], UnsafeBufferPointer(outputs[l])) }
        }
        let last = layers.count - 1
        let target = targets[h]
        let width = spec.targetWidth
        let vectors = classVectorSlots[h]
        let loss = target.values.withUnsafeBufferPointer { values in
          target.rowWeights.withUnsafeBufferPointer { weights in
            headLossAndGradient(
              spec: spec, logits: UnsafeBufferPointer(outputs[last]), dLogits: grads[last],
              labels: UnsafeBufferPointer(rebasing: values[(rows.lowerBound * width)..<(rows.upperBound * width)]),
              rowWeights: UnsafeBufferPointer(rebasing: weights[rows]), batch: batch,
              classVectors: UnsafeBufferPointer(rebasing: params[vectors]),
              dClassVectors: UnsafeMutableBufferPointer(rebasing: gradients[vectors]))
          }
        }
        headLosses.append(loss)
        total += loss * Double(spec.lossWeight)
        // Back through the layers; the first layer needs no dx unless the features train.
        for l in stride(from: last, through: 0, by: -1) {
          let slot = layers[l]
          let below: UnsafeMutableBufferPointer<Float>? = l > 0 ? grads[l - 1] : nil
          below?.initialize(repeating: 0)
          denseBackward(
            dx: l > 0 ? below : dFeatures, dWeight: UnsafeMutableBufferPointer(rebasing: gradients[slot.kernel]),
            dBias: UnsafeMutableBufferPointer(rebasing: gradients[slot.bias]), dy: UnsafeBufferPointer(grads[l]),
            x: l > 0 ? UnsafeBufferPointer(outputs[l - 1]) : headInput,
            weight: UnsafeBufferPointer(rebasing: params[slot.kernel]), batch: batch, inFeatures: slot.inputs,
            outFeatures: slot.outputs)
          if let below {
            // Through the ReLU of the layer below, in place: zero where its output was not positive.
            let y = outputs[l - 1]
            for i in 0..<below.count where y[i] <= 0 { below[i] = 0 }
          }
        }
      }
    }
    return HeadLosses(heads: headLosses, total: total)
  }
}

/// The head's unweighted batch loss from its output layer's logits (B, outputs); writes the
/// gradient of `lossWeight` times that loss with respect to the logits into `dLogits`. An
/// embedding head's "logits" are its predicted vectors (B, E); its class vectors (C, E) are read
/// from `classVectors` and their gradient ACCUMULATED into `dClassVectors`.
func headLossAndGradient(
  spec: HeadSpec, logits: UnsafeBufferPointer<Float>, dLogits: UnsafeMutableBufferPointer<Float>,
  labels: UnsafeBufferPointer<Float>, rowWeights: UnsafeBufferPointer<Float>, batch: Int,
  classVectors: UnsafeBufferPointer<Float>? = nil, dClassVectors: UnsafeMutableBufferPointer<Float>? = nil,
  wheelTargets: WheelTargets? = nil
) -> Double {
  let width = spec.outputs
  let count = batch * width
  dLogits.initialize(repeating: 0)
  switch spec.kind {
  case .tanh:
    // MSE on tanh(logits); the loss function's gradient is with respect to the prediction.
    let predictions = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
    let dPredictions = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
    defer {
      predictions.deallocate()
      dPredictions.deallocate()
    }
    tanhForward(predictions, logits)
    dPredictions.initialize(repeating: 0)
    let loss = meanSquaredErrorForward(
      predictions: UnsafeBufferPointer(predictions), labels: labels, rowWeights: rowWeights, lossWeight: 1,
      batch: batch, width: width)
    meanSquaredErrorBackward(
      dPredictions, predictions: UnsafeBufferPointer(predictions), labels: labels, rowWeights: rowWeights,
      lossWeight: spec.lossWeight, batch: batch, width: width)
    tanhBackward(dLogits, UnsafeBufferPointer(dPredictions), y: UnsafeBufferPointer(predictions))
    return Double(loss)
  case .softmax:
    let probabilities = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
    defer { probabilities.deallocate() }
    softmaxForward(probabilities, logits, rows: batch, width: width)
    let loss = categoricalCrossEntropyForward(
      logits: logits, labels: labels, rowWeights: rowWeights, lossWeight: 1, batch: batch, classes: width)
    categoricalCrossEntropyBackward(
      dLogits, probabilities: UnsafeBufferPointer(probabilities), labels: labels, rowWeights: rowWeights,
      lossWeight: spec.lossWeight, batch: batch, classes: width)
    return Double(loss)
  case .sigmoid:
    let loss = binaryCrossEntropyForward(
      logits: logits, labels: labels, rowWeights: rowWeights, lossWeight: 1, batch: batch, labelCount: width)
    binaryCrossEntropyBackward(
      dLogits, logits: logits, labels: labels, rowWeights: rowWeights, lossWeight: spec.lossWeight, batch: batch,
      labelCount: width)
    return Double(loss)
  case .embedding:
    guard let classVectors, let dClassVectors else { preconditionFailure("embedding head without class vectors") }
    let wheel = labels.map { Int32($0) }
    return wheel.withUnsafeBufferPointer { wheel in
      let classes = spec.wheelClasses.count
      let loss = embeddingLossAndGradient(
        dPredictions: dLogits, dClassVectors: dClassVectors, predictions: logits, classVectors: classVectors,
        labels: wheel, rowWeights: rowWeights, lossWeight: spec.lossWeight,
        targets: wheelTargets ?? WheelTargets(classes: classes, sigma: spec.wheelSigma), batch: batch,
        dimensions: width)
      return Double(loss)
    }
  }
}
