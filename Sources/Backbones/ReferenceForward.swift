// The naive whole-network reference: the same layer graph run with the naive kernels and
// batch norm applied literally (not folded), one array per buffer. Slow; it exists so tests
// can check the fast path, which folds, fuses and chunks, against the definition.
//
// Input (N, H, W, 3) NHWC; output (N, sum of tap widths) like `Backbone.features`.
import Engine

/// `Backbone.features` computed the slow, literal way from the unfolded Keras weights.
func referenceFeatures(
  kind: BackboneKind, weights: KerasWeights, input: [Float], count: Int, height: Int, width: Int,
  taps: [String]
) throws -> [Float] {
  try kind.validateWeights(weights)
  let names = try kind.resolveTaps(taps)
  let architecture = kind.architecture
  let index = Dictionary(uniqueKeysWithValues: architecture.layers.enumerated().map { ($1.outputName, $0) })
  let tapLayers = names.map { index[$0]! }
  let widths = tapLayers.map { architecture.layers[$0].outChannels }
  let rowWidth = widths.reduce(0, +)
  let plan = architecture.plan(height: height, width: width)
  var slots = [[Float]](repeating: [], count: architecture.slotCount)
  slots[0] = input
  var result = [Float](repeating: 0, count: count * rowWidth)
  for (i, (layer, p)) in zip(architecture.layers, plan).enumerated() where i <= tapLayers.max()! {
    var out = [Float](repeating: 0, count: count * p.outHeight * p.outWidth * layer.outChannels)
    let window = Window2D(
      height: p.window, width: p.window, strideHeight: p.stride, strideWidth: p.stride, padding: p.padding)
    switch layer.operation {
    case .conv(let conv):
      let stored = weights.layers[conv.name]!
      let shape = ConvShape(
        batch: count, height: p.inHeight, width: p.inWidth, inChannels: conv.inChannels,
        outChannels: conv.outChannels, window: window)
      slots[layer.input].withUnsafeBufferPointer { x in
        out.withUnsafeMutableBufferPointer { y in
          stored[.kernel]!.values.withUnsafeBufferPointer { k in
            stored[.bias]!.values.withUnsafeBufferPointer { b in
              conv2dForwardNaive(y, x, kernel: k, bias: b, shape: shape)
            }
          }
          if let bnName = conv.batchNorm {
            let bn = weights.layers[bnName]!
            let parameters = BatchNormParameters(
              gamma: bn[.gamma]!.values, beta: bn[.beta]!.values, movingMean: bn[.movingMean]!.values,
              movingVariance: bn[.movingVariance]!.values, epsilon: ResNet50Table.batchNormEpsilon)
            batchNormInferenceNaive(y, rows: y.count / conv.outChannels, batchNorm: parameters)
          }
          if let r = conv.residual { slots[r].withUnsafeBufferPointer { addInPlace(y, $0) } }
          if conv.relu { reluInPlace(y) }
        }
      }
    case .maxPool:
      slots[layer.input].withUnsafeBufferPointer { x in
        out.withUnsafeMutableBufferPointer { y in
          maxPool2dForwardNaive(
            y, x, batch: count, height: p.inHeight, width: p.inWidth, channels: p.inChannels, window: window)
        }
      }
    }
    var offset = 0
    for (t, tapLayer) in tapLayers.enumerated() {
      defer { offset += widths[t] }
      guard tapLayer == i else { continue }
      let c = widths[t]
      var pooled = [Float](repeating: 0, count: count * c)
      out.withUnsafeBufferPointer { y in
        pooled.withUnsafeMutableBufferPointer { g in
          globalAveragePoolNaive(g, y, batch: count, height: p.outHeight, width: p.outWidth, channels: c)
          l2NormalizeRows(g, rows: count, width: c)
        }
      }
      for image in 0..<count {
        for j in 0..<c { result[image * rowWidth + offset + j] = pooled[image * c + j] }
      }
    }
    slots[layer.output] = out
  }
  return result
}
