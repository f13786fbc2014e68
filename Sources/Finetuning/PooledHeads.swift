// The top of every fine-tuned model: the stage output (N, H, W, C) NHWC, global average pooled
// and L2-normalised (the tap as `extract` computes it), placed in the heads' input row beside
// the fixed features of taps before the block (FeatureRow), then the heads; and back from the
// heads' loss to the gradient at the stage output (through the block's columns only).
import Engine
import Heads

/// GAP, L2 and the heads for one batch size, with the buffers they need.
final class PooledHeads {
  let batch: Int
  let height: Int
  let width: Int
  let channels: Int
  let row: FeatureRow
  let pooled: UnsafeMutableBufferPointer<Float>  // (N, C) GAP of the stage output
  let normalized: UnsafeMutableBufferPointer<Float>  // (N, C) pooled, L2-normalised: the block's tap
  let features: UnsafeMutableBufferPointer<Float>  // (N, D) the heads' input row
  let dFeatures: UnsafeMutableBufferPointer<Float>  // (N, D)
  let dNormalized: UnsafeMutableBufferPointer<Float>  // (N, C)
  let dPooled: UnsafeMutableBufferPointer<Float>  // (N, C)

  init(batch: Int, height: Int, width: Int, channels: Int, row: FeatureRow? = nil) {
    (self.batch, self.height, self.width, self.channels) = (batch, height, width, channels)
    let row = row ?? .blockOnly(channels: channels)
    precondition(row.blockColumns.count == channels, "the row's block columns are the block's channels")
    self.row = row
    let rows = batch * channels
    (pooled, normalized, dNormalized, dPooled) = (
      .allocate(capacity: rows), .allocate(capacity: rows), .allocate(capacity: rows), .allocate(capacity: rows)
    )
    (features, dFeatures) = (.allocate(capacity: batch * row.width), .allocate(capacity: batch * row.width))
    for buffer in [pooled, normalized, features, dFeatures, dNormalized, dPooled] { buffer.initialize(repeating: 0) }
  }

  deinit {
    for buffer in [pooled, normalized, features, dFeatures, dNormalized, dPooled] { buffer.deallocate() }
  }

  /// The fixed features (N, row.fixedWidth) of the batch into their columns of `features`.
  func setFixed(_ fixed: UnsafeBufferPointer<Float>) {
    row.scatterFixed(fixed, into: features, count: batch)
  }

  /// pooled, normalized and the block's columns of features from the stage output (N, H, W, C).
  func forward(_ output: UnsafeBufferPointer<Float>) {
    globalAveragePool(pooled, output, batch: batch, height: height, width: width, channels: channels)
    _ = normalized.update(fromContentsOf: pooled)
    l2NormalizeRows(normalized, rows: batch, width: channels)
    for r in 0..<batch {
      (features.baseAddress! + r * row.width + row.blockColumns.lowerBound).update(
        from: normalized.baseAddress! + r * channels, count: channels)
    }
  }

  /// The heads' losses on `features` (after `forward`); with `dOutput` (N, H, W, C), also the
  /// gradients: the heads' ACCUMULATED into `headGradients`, the stage output's OVERWRITING
  /// `dOutput` (from the block's columns; the fixed columns' gradient goes nowhere).
  func lossAndBackward(
    heads: MultiHeadModel, targets: [HeadTargets], headGradients: UnsafeMutableBufferPointer<Float>,
    dOutput: UnsafeMutableBufferPointer<Float>?
  ) -> HeadLosses {
    dFeatures.update(repeating: 0)
    let losses = heads.lossAndGradient(
      features: UnsafeBufferPointer(features), targets: targets, rows: 0..<batch, gradients: headGradients,
      dFeatures: dOutput == nil ? nil : dFeatures)
    guard let dOutput else { return losses }
    for r in 0..<batch {
      (dNormalized.baseAddress! + r * channels).update(
        from: dFeatures.baseAddress! + r * row.width + row.blockColumns.lowerBound, count: channels)
    }
    dPooled.update(repeating: 0)
    l2NormalizeRowsBackward(
      dPooled, UnsafeBufferPointer(dNormalized), x: UnsafeBufferPointer(pooled), rows: batch, width: channels)
    dOutput.update(repeating: 0)
    globalAveragePoolBackward(
      dOutput, UnsafeBufferPointer(dPooled), batch: batch, height: height, width: width, channels: channels)
    return losses
  }
}
