// The top of every fine-tuned model: the stage output (N, H, W, C) NHWC, global average pooled
// and L2-normalised (the tap as `extract` computes it), then the heads; and back from the
// heads' loss to the gradient at the stage output.
import Engine
import Heads

/// GAP, L2 and the heads for one batch size, with the buffers they need.
final class PooledHeads {
  let batch: Int
  let height: Int
  let width: Int
  let channels: Int
  let pooled: UnsafeMutableBufferPointer<Float>  // (N, C) GAP of the stage output
  let features: UnsafeMutableBufferPointer<Float>  // (N, C) pooled, L2-normalised
  let dFeatures: UnsafeMutableBufferPointer<Float>  // (N, C)
  let dPooled: UnsafeMutableBufferPointer<Float>  // (N, C)

  init(batch: Int, height: Int, width: Int, channels: Int) {
    (self.batch, self.height, self.width, self.channels) = (batch, height, width, channels)
    let rows = batch * channels
    (pooled, features, dFeatures, dPooled) = (
      .allocate(capacity: rows), .allocate(capacity: rows),
      .allocate(capacity: rows), .allocate(capacity: rows)
    )
    for buffer in [pooled, features, dFeatures, dPooled] { buffer.initialize(repeating: 0) }
  }

  deinit {
    for buffer in [pooled, features, dFeatures, dPooled] { buffer.deallocate() }
  }

  /// pooled and features from the stage output (N, H, W, C).
  func forward(_ output: UnsafeBufferPointer<Float>) {
    globalAveragePool(pooled, output, batch: batch, height: height, width: width, channels: channels)
    _ = features.update(fromContentsOf: pooled)
    l2NormalizeRows(features, rows: batch, width: channels)
  }

  /// The heads' losses on `features` (after `forward`); with `dOutput` (N, H, W, C), also the
  /// gradients: the heads' ACCUMULATED into `headGradients`, the stage output's OVERWRITING
  /// `dOutput`.
  func lossAndBackward(
    heads: MultiHeadModel, targets: [HeadTargets], headGradients: UnsafeMutableBufferPointer<Float>,
    dOutput: UnsafeMutableBufferPointer<Float>?
  ) -> HeadLosses {
    dFeatures.update(repeating: 0)
    let losses = heads.lossAndGradient(
      features: UnsafeBufferPointer(features), targets: targets, rows: 0..<batch, gradients: headGradients,
      dFeatures: dOutput == nil ? nil : dFeatures)
    guard let dOutput else { return losses }
    dPooled.update(repeating: 0)
    l2NormalizeRowsBackward(
      dPooled, UnsafeBufferPointer(dFeatures), x: UnsafeBufferPointer(pooled), rows: batch, width: channels)
    dOutput.update(repeating: 0)
    globalAveragePoolBackward(
      dOutput, UnsafeBufferPointer(dPooled), batch: batch, height: height, width: width, channels: channels)
    return losses
  }
}
