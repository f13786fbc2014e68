// The raw output of one layer, for fine-tuning: the frozen part of the network runs once and
// the trained block starts from this activation (ResNet50: conv4_block6_out; VGG: block4_pool).
//
// Input (N, H, W, 3) float32 'caffe'-preprocessed BGR; output (N, OH, OW, C) NHWC.

extension Backbone {
  /// The output of layer `layer` (a tap name: any entry of `kind.allTapNames`) for `count`
  /// images, (N, OH, OW, C) NHWC with OH, OW, C as `outputShape(ofTap:height:width:)` gives.
  /// The forward pass stops after that layer; images run in passes of `imagesPerPass`.
  public func activations(
    _ input: UnsafeBufferPointer<Float>, count: Int, height: Int, width: Int, layer: String
  ) throws -> [Float] {
    guard let last = layerIndex[layer] else { throw BackboneError(kind: kind, reason: .unknownTap(layer)) }
    try kind.checkInputSize(height: height, width: width)
    let imageSize = height * width * 3
    guard input.count == count * imageSize else {
      throw BackboneError(
        kind: kind, reason: .inputCountMismatch(expected: count * imageSize, actual: input.count))
    }
    let plan = Array(architecture.plan(height: height, width: width)[0...last])
    let outputSize = plan[last].outHeight * plan[last].outWidth * architecture.layers[last].outChannels
    var result = [Float](repeating: 0, count: count * outputSize)
    result.withUnsafeMutableBufferPointer { out in
      forwardPasses(input, count: count, imageSize: imageSize, plan: plan, extra: 0) { i, first, n, produced, _ in
        guard i == last else { return }
        (out.baseAddress! + first * outputSize).update(from: produced.baseAddress!, count: n * outputSize)
      }
    }
    return result
  }
}
