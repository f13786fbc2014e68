// The raw output of one layer, for fine-tuning: the frozen part of the network runs once and
// the trained block starts from this activation (ResNet50: conv4_block6_out; VGG: block4_pool).
// The same pass can also pool taps on the way (heads on taps before the trained block read
// them as `extract` computes them), so an augmented batch goes through the prefix once.
//
// Input (N, H, W, 3) float32 'caffe'-preprocessed BGR; output (N, OH, OW, C) NHWC.
import Engine

extension Backbone {
  /// The output of layer `layer` (a tap name: any entry of `kind.allTapNames`) for `count`
  /// images, (N, OH, OW, C) NHWC with OH, OW, C as `outputShape(ofTap:height:width:)` gives.
  /// The forward pass stops after that layer; images run in passes of `imagesPerPass`.
  public func activations(
    _ input: UnsafeBufferPointer<Float>, count: Int, height: Int, width: Int, layer: String
  ) throws -> [Float] {
    try activations(input, count: count, height: height, width: width, layer: layer, pooling: []).activations
  }

  /// `activations` of `layer` and, from the same forward pass, the features of `taps` (N, sum
  /// of their widths) exactly as `features(_:count:height:width:taps:)` computes them (each
  /// global-average-pooled and L2-normalised, in the order given; empty `taps`: no features).
  /// The pass stops after the later of `layer` and the taps.
  public func activations(
    _ input: UnsafeBufferPointer<Float>, count: Int, height: Int, width: Int, layer: String, pooling taps: [String]
  ) throws -> (activations: [Float], features: [Float]) {
    guard let last = layerIndex[layer] else { throw BackboneError(kind: kind, reason: .unknownTap(layer)) }
    try kind.checkInputSize(height: height, width: width)
    let imageSize = height * width * 3
    guard input.count == count * imageSize else {
      throw BackboneError(
        kind: kind, reason: .inputCountMismatch(expected: count * imageSize, actual: input.count))
    }
    let names = taps.isEmpty ? [] : try kind.resolveTaps(taps)
    let tapLayers = names.map { layerIndex[$0]! }
    let widths = tapLayers.map { architecture.layers[$0].outChannels }
    let rowWidth = widths.reduce(0, +)
    let plan = Array(architecture.plan(height: height, width: width)[0...max(last, tapLayers.max() ?? 0)])
    let outputSize = plan[last].outHeight * plan[last].outWidth * architecture.layers[last].outChannels
    var result = [Float](repeating: 0, count: count * outputSize)
    var features = [Float](repeating: 0, count: count * rowWidth)
    result.withUnsafeMutableBufferPointer { out in
      features.withUnsafeMutableBufferPointer { rows in
        forwardPasses(input, count: count, imageSize: imageSize, plan: plan, extra: widths.max() ?? 0) {
          i, first, n, produced, pooled in
          if i == last {
            (out.baseAddress! + first * outputSize).update(from: produced.baseAddress!, count: n * outputSize)
          }
          poolTaps(
            after: i, plan[i], tapLayers: tapLayers, widths: widths, first: first, images: n, output: produced,
            pooled: pooled, into: rows)
        }
      }
    }
    return (result, features)
  }

  /// After layer `i` (planned as `p`) has produced `output` for images first..<first+n: each
  /// tap of `tapLayers` that is layer i, global-average-pooled (in `pooled`, n x its width) and
  /// L2-normalised, written at its columns of those images' rows of `rows` (N, sum of `widths`).
  func poolTaps(
    after i: Int, _ p: PlannedLayer, tapLayers: [Int], widths: [Int], first: Int, images n: Int,
    output: UnsafeMutableBufferPointer<Float>, pooled: UnsafeMutableBufferPointer<Float>,
    into rows: UnsafeMutableBufferPointer<Float>
  ) {
    let rowWidth = widths.reduce(0, +)
    var offset = 0
    for (t, tapLayer) in tapLayers.enumerated() {
      defer { offset += widths[t] }
      guard tapLayer == i else { continue }
      let c = widths[t]
      let tap = UnsafeMutableBufferPointer(rebasing: pooled[0..<(n * c)])
      globalAveragePool(
        tap, UnsafeBufferPointer(output), batch: n, height: p.outHeight, width: p.outWidth, channels: c)
      l2NormalizeRows(tap, rows: n, width: c)
      for image in 0..<n {
        let dst = rows.baseAddress! + (first + image) * rowWidth + offset
        dst.update(from: tap.baseAddress! + image * c, count: c)
      }
    }
  }
}
