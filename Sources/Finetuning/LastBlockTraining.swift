// One face for the two trained blocks (ResNet50's conv5 stage, a VGG's block5), so a tool can
// fine-tune whichever backbone it was given: where the frozen part ends, one training step,
// the losses and features with the current weights, and the weights written back.
import Backbones
import Heads

/// A backbone's last block and the heads on its pooled, L2-normalised output, trained
/// together on batches of block inputs (the frozen prefix's output, NHWC).
public protocol LastBlockTraining: AnyObject {
  /// The heads' current weights.
  var heads: MultiHeadModel { get set }
  /// One step: forward, backward, one optimiser update of the block and the heads. `fixed`
  /// holds the batch's features of taps before the block (count, FeatureRow.fixedWidth; empty
  /// without such taps); `targets` hold exactly the batch's `count` rows. Returns the losses
  /// before the update.
  @discardableResult
  func step(
    blockInput: UnsafeBufferPointer<Float>, fixed: UnsafeBufferPointer<Float>, count: Int, targets: [HeadTargets]
  ) throws -> HeadLosses
  /// The losses with the current weights, forward only (validation).
  func loss(
    blockInput: UnsafeBufferPointer<Float>, fixed: UnsafeBufferPointer<Float>, count: Int, targets: [HeadTargets]
  ) throws -> HeadLosses
  /// The heads' input rows (N, D) with the current weights, batch norms at their moving
  /// statistics: what `extract` would compute for the taps with the exported weights.
  func features(blockInput: UnsafeBufferPointer<Float>, fixed: UnsafeBufferPointer<Float>, count: Int) throws
    -> [Float]
  /// Validation of one batch: what `loss` and `features` return, from one forward pass wherever
  /// the two passes are the same function (every block but ResNet50's with batch statistics).
  func lossAndFeatures(
    blockInput: UnsafeBufferPointer<Float>, fixed: UnsafeBufferPointer<Float>, count: Int, targets: [HeadTargets]
  ) throws -> (losses: HeadLosses, features: [Float])
  /// Writes the block's current arrays into `weights` under their Keras names.
  func write(into weights: inout KerasWeights)
  /// Every optimiser's state (block arrays, then heads), to checkpoint and resume bit for bit.
  var optimizerStates: [OptimizerState] { get set }
}

extension LastBlockTraining {
  /// `step` for heads on the block's output alone (no fixed features).
  @discardableResult
  public func step(blockInput: UnsafeBufferPointer<Float>, count: Int, targets: [HeadTargets]) throws -> HeadLosses {
    try step(blockInput: blockInput, fixed: .init(start: nil, count: 0), count: count, targets: targets)
  }

  /// `loss` for heads on the block's output alone (no fixed features).
  public func loss(blockInput: UnsafeBufferPointer<Float>, count: Int, targets: [HeadTargets]) throws -> HeadLosses {
    try loss(blockInput: blockInput, fixed: .init(start: nil, count: 0), count: count, targets: targets)
  }

  /// `features` for heads on the block's output alone (no fixed features).
  public func features(blockInput: UnsafeBufferPointer<Float>, count: Int) throws -> [Float] {
    try features(blockInput: blockInput, fixed: .init(start: nil, count: 0), count: count)
  }
}

extension ResNet50LastStageTrainer: LastBlockTraining {
  public func write(into weights: inout KerasWeights) { stage.write(into: &weights) }
}

extension VGGLastBlockTrainer: LastBlockTraining {
  public func write(into weights: inout KerasWeights) { block.write(into: &weights) }
}

/// What fine-tuning `kind` trains and where its frozen part ends.
public enum LastBlock {
  /// The layer whose output feeds the trained block: conv4_block6_out or block4_pool.
  public static func inputLayer(_ kind: BackboneKind) -> String {
    kind == .resnet50 ? ResNet50LastStage.inputLayer : VGGLastBlock.inputLayer
  }

  /// The layer the trained block ends with, its output tap: conv5_block3_out or block5_pool.
  public static func outputLayer(_ kind: BackboneKind) -> String {
    kind == .resnet50 ? ResNet50LastStage.outputLayer : VGGLastBlock.outputLayer
  }

  /// The trained block's Keras layers that hold weights.
  public static func layerNames(_ kind: BackboneKind) -> [String] {
    kind == .resnet50 ? ResNet50LastStage.layerNames : ((try? VGGLastBlock.layerNames(kind)) ?? [])
  }

  /// The (height, width, channels) of the block input for images of height x width.
  public static func inputShape(_ kind: BackboneKind, height: Int, width: Int) throws -> (
    height: Int, width: Int, channels: Int
  ) {
    try kind.outputShape(ofTap: inputLayer(kind), height: height, width: width)
  }

  /// The block input (N, h, w, c) of `count` images (N, H, W, 3), 'caffe'-preprocessed BGR,
  /// through the frozen part of `backbone`, and from the same pass the features of `row`'s fixed
  /// taps (N, row.fixedWidth), as `extract` computes them (empty without fixed taps).
  public static func input(
    _ backbone: Backbone, images: UnsafeBufferPointer<Float>, count: Int, height: Int, width: Int,
    row: FeatureRow? = nil
  ) throws -> (block: [Float], fixed: [Float]) {
    let result = try backbone.activations(
      images, count: count, height: height, width: width, layer: inputLayer(backbone.kind),
      pooling: row?.fixedTaps ?? [])
    return (result.activations, result.features)
  }

  /// A trainer for `kind`'s last block starting from `weights` and `heads`, for images of
  /// height x width. `batchNorm` applies to ResNet50 (VGG has none); `trainable` names the
  /// block's layers that train (`unfrozenLayers`; nil: all).
  public static func trainer(
    _ kind: BackboneKind, weights: KerasWeights, heads: MultiHeadModel, optimizer: OptimizerKind,
    weightDecay: Double? = nil, batchNorm: FinetuneBatchNorm = .frozenStatistics, trainable: Set<String>? = nil,
    row: FeatureRow? = nil, height: Int, width: Int
  ) throws -> any LastBlockTraining {
    let shape = try inputShape(kind, height: height, width: width)
    switch kind {
    case .resnet50:
      return try ResNet50LastStageTrainer(
        stage: try ResNet50LastStage(weights: weights), heads: heads, optimizer: optimizer,
        weightDecay: weightDecay, batchNorm: batchNorm, trainable: trainable, row: row, inputHeight: shape.height,
        inputWidth: shape.width)
    case .vgg16, .vgg19:
      return try VGGLastBlockTrainer(
        block: try VGGLastBlock(kind: kind, weights: weights), heads: heads, optimizer: optimizer,
        weightDecay: weightDecay, trainable: trainable, row: row, inputHeight: shape.height,
        inputWidth: shape.width)
    }
  }
}
