// One epoch of mini-batch training, as Keras' `model.fit` runs it.

/// Trains `model` for one epoch over `batches` (row ranges, in order) and returns the epoch's
/// losses as Keras' history reports them: the mean over the batches of each batch's loss,
/// computed before that batch's update.
public func trainEpoch(
  _ model: inout MultiHeadModel, optimizer: inout Optimizer, features: [Float], targets: [HeadTargets],
  batches: [Range<Int>]
) -> HeadLosses {
  // Contiguous batches are index batches in order (Batches.swift holds the one training loop;
  // gathering contiguous rows copies them unchanged, so the results are bit-identical).
  trainEpoch(&model, optimizer: &optimizer, features: features, targets: targets, batches: batches.map { Array($0) })
}
