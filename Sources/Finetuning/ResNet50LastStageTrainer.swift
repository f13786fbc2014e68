// Training ResNet50's last stage together with the heads, one batch at a time, as Keras does
// with the layers before conv5 frozen:
//
//   block input (N, H, W, 1024)  conv4_block6_out, from the frozen prefix (or a cache of it)
//   conv5_block1..3              residualBlockForward, activations kept     -> (N, OH, OW, 2048)
//   GAP                          globalAveragePool                         -> pooled (N, 2048)
//   L2                           l2NormalizeRows (the tap as `extract` computes it) -> features
//   heads                        MultiHeadModel.lossAndGradient, with dFeatures
// and back: l2NormalizeRowsBackward, globalAveragePoolBackward, residualBlockBackward x 3 (the
// first block's input gradient is not needed), then one optimiser step over every trainable
// array of the stage and over the heads' parameters, each with Keras 3's update rule.
import Backbones
import Engine
import Heads

/// How the stage's batch norms behave while fine-tuning.
public enum FinetuneBatchNorm: Sendable, Equatable {
  /// Moving statistics kept and used (Keras: the base model called with training=False, its
  /// recommended set-up for fine-tuning); gamma and beta are trainable variables and train.
  case frozenStatistics
  /// The batch norm layers do not train at all (Keras: `layer.trainable = False` on them):
  /// moving statistics used, gamma and beta fixed.
  case frozen
  /// Batch statistics; the moving mean and variance move with `momentum` (Keras: the model
  /// called with training=True; momentum 0.99 in ResNet50); gamma and beta train.
  case training(momentum: Float)

  var engineMode: BatchNormMode {
    if case .training(let momentum) = self { return .training(momentum: momentum) }
    return .frozen
  }
  var trainsAffine: Bool { self != .frozen }
}

/// ResNet50's conv5 stage and a set of heads, trained end to end on batches of stage inputs.
/// Not for concurrent use.
public final class ResNet50LastStageTrainer {
  /// The stage's current weights (moving statistics included). Replace it only with a stage
  /// of the same shapes (e.g. restored from a checkpoint); the optimiser state stays.
  public var stage: ResNet50LastStage
  /// The heads' current weights; replace only with heads of the same specs.
  public var heads: MultiHeadModel {
    get { core.heads }
    set { core.heads = newValue }
  }
  public let batchNorm: FinetuneBatchNorm
  /// The block input's spatial size (conv4_block6_out of the training images).
  public let inputHeight: Int
  public let inputWidth: Int

  private var gradients: [ResidualBlockGradients]
  /// Heads, optimisers (per unit: kernel, bias, then gamma and beta when they train; then the
  /// heads') and buffers.
  private let core: TrainerCore<StageWorkspace>
  /// Per block, per unit (`units` order): whether its conv and its batch norm's gamma/beta train.
  private let trains: [[(conv: Bool, batchNorm: Bool)]]
  /// The first block with anything to train (nil: only the heads train); the backward pass
  /// stops there.
  private let firstTrainingBlock: Int?

  /// Where one conv/BN unit sits in a block's parameters and in its gradients.
  private typealias Unit = (
    parameters: WritableKeyPath<ResidualBlockParameters, ConvBatchNormParameters>,
    gradients: WritableKeyPath<ResidualBlockGradients, ConvBatchNormGradients>
  )

  /// The Keras number of each unit in `units` order.
  private static let unitNumbers = [1, 2, 3, 0]

  /// Every conv/BN unit of a block: _1, _2, _3, then the shortcut _0 when it has one.
  private static func units(_ block: ResidualBlockParameters) -> [Unit] {
    var units: [Unit] = [(\.conv1, \.conv1), (\.conv2, \.conv2), (\.conv3, \.conv3)]
    if block.shortcut != nil { units.append((\.shortcut!, \.shortcut!)) }
    return units
  }

  /// A trainer starting from `stage` and `heads`. `inputHeight` x `inputWidth` is the block
  /// input's size (2 x 2 for 64 x 64 images, 7 x 7 -> conv5 at 4 x 4 ... as Keras plans it).
  /// The same optimiser kind and weight decay apply to the stage and the heads. `trainable`
  /// names the stage's layers that train (`LastBlock.unfrozenLayers`; nil: all of them); the
  /// others keep their weights, and no gradient flows below the first block that trains.
  public init(
    stage: ResNet50LastStage, heads: MultiHeadModel, optimizer: OptimizerKind, weightDecay: Double? = nil,
    batchNorm: FinetuneBatchNorm = .frozenStatistics, trainable: Set<String>? = nil, row: FeatureRow? = nil,
    inputHeight: Int, inputWidth: Int
  ) throws {
    self.stage = stage
    self.batchNorm = batchNorm
    self.inputHeight = inputHeight
    self.inputWidth = inputWidth
    let trainable = trainable ?? Set(ResNet50LastStage.layerNames)
    trains = stage.blocks.indices.map { b in
      Self.units(stage.blocks[b]).indices.map { u in
        let layer = "\(ResNet50LastStage.blockNames[b])_\(Self.unitNumbers[u])"
        return (trainable.contains(layer + "_conv"), trainable.contains(layer + "_bn") && batchNorm.trainsAffine)
      }
    }
    firstTrainingBlock = trains.firstIndex { $0.contains { $0.conv || $0.batchNorm } }
    gradients = stage.blocks.map { ResidualBlockGradients(zerosFor: $0) }
    // Per unit: kernel, bias, then gamma and beta when they train.
    var counts: [Int] = []
    for block in stage.blocks {
      for (unit, _) in Self.units(block) {
        let u = block[keyPath: unit]
        counts += [u.kernel.count, u.bias.count]
        if batchNorm.trainsAffine { counts += [u.batchNorm.channels, u.batchNorm.channels] }
      }
    }
    core = try TrainerCore(
      heads: heads, blockChannels: ResNet50LastStage.outChannels, row: row, optimizer: optimizer,
      weightDecay: weightDecay,
      arrayCounts: counts, inputFloats: inputHeight * inputWidth * ResNet50LastStage.inChannels
    ) { count in
      StageWorkspace(shapes: ResNet50LastStage.shapes(batch: count, height: inputHeight, width: inputWidth), row: row)
    }
  }

  /// The heads' input rows (N, D) of `count` block inputs (N, H, W, 1024) and their fixed
  /// features (N, row.fixedWidth) with the current weights: conv5, GAP, L2, as `extract`
  /// computes the tap conv5_block3_out, beside the fixed taps (D = 2048 without any). Batch
  /// norms use their moving statistics (inference), whatever `batchNorm` says.
  public func features(blockInput: UnsafeBufferPointer<Float>, fixed: UnsafeBufferPointer<Float>, count: Int)
    throws -> [Float]
  {
    let work = try core.workspace(blockInput: blockInput, fixed: fixed, count: count)
    work.top.setFixed(fixed)
    var frozen = stage
    forward(work, blockInput: blockInput, parameters: &frozen, mode: .frozen)
    return Array(work.top.features)
  }

  /// `loss` and `features` of one batch. With the moving statistics in training too (the
  /// default), both are one forward pass, run once.
  public func lossAndFeatures(
    blockInput: UnsafeBufferPointer<Float>, fixed: UnsafeBufferPointer<Float>, count: Int, targets: [HeadTargets]
  ) throws -> (losses: HeadLosses, features: [Float]) {
    guard case .frozen = batchNorm.engineMode else {
      return (
        try loss(blockInput: blockInput, fixed: fixed, count: count, targets: targets),
        try features(blockInput: blockInput, fixed: fixed, count: count)
      )
    }
    let work = try core.workspace(blockInput: blockInput, fixed: fixed, count: count)
    work.top.setFixed(fixed)
    var frozen = stage
    forward(work, blockInput: blockInput, parameters: &frozen, mode: .frozen)
    return (core.loss(work.top, targets: targets), Array(work.top.features))
  }

  /// The losses of one batch (N, H, W, 1024) with the current weights, forward only, in the
  /// batch-norm mode of training (batch statistics in `.training`, without moving the moving
  /// statistics): what `computeGradients` differentiates.
  public func loss(
    blockInput: UnsafeBufferPointer<Float>, fixed: UnsafeBufferPointer<Float>, count: Int, targets: [HeadTargets]
  ) throws -> HeadLosses {
    let work = try core.workspace(blockInput: blockInput, fixed: fixed, count: count)
    work.top.setFixed(fixed)
    var copy = stage
    forward(work, blockInput: blockInput, parameters: &copy, mode: batchNorm.engineMode)
    return core.loss(work.top, targets: targets)
  }

  /// Forward and backward over one batch (N, H, W, 1024) with its `targets` (one per head,
  /// N rows each): returns the losses before the update and leaves the gradients of the total
  /// loss (stage and heads) in `lastGradients` / `lastHeadGradients`. In `.training` batch-norm
  /// mode the moving statistics move, as in Keras' forward pass.
  @discardableResult
  public func computeGradients(
    blockInput: UnsafeBufferPointer<Float>, fixed: UnsafeBufferPointer<Float> = .init(start: nil, count: 0),
    count: Int, targets: [HeadTargets]
  ) throws -> HeadLosses {
    let work = try core.workspace(blockInput: blockInput, fixed: fixed, count: count)
    work.top.setFixed(fixed)
    forward(work, blockInput: blockInput, parameters: &stage, mode: batchNorm.engineMode)
    zeroGradients()
    let (dOutput, dBetween) = (work.dOutputs[0], work.dOutputs[1])
    let losses = core.headsBackward(work.top, targets: targets, dOutput: dOutput)
    // Blocks above the first trained one send their input gradient down; its input is frozen.
    guard let first = firstTrainingBlock else { return losses }
    var dCurrent = dOutput
    var dNext = dBetween
    for b in stride(from: 2, through: first, by: -1) {
      if b > first { dNext.update(repeating: 0) }
      let parameters = stage.blocks[b]
      let activations = work.activations[b]
      let dIn = b > first ? dNext : nil
      let dOut = UnsafeBufferPointer(dCurrent)
      let backward = { (input: UnsafeBufferPointer<Float>) in
        residualBlockBackward(
          dInput: dIn, gradients: &self.gradients[b], dOutput: dOut, input: input, parameters: parameters,
          activations: activations)
      }
      if b == 0 { backward(blockInput) } else { work.activations[b - 1].withOutput(backward) }
      swap(&dCurrent, &dNext)
    }
    return losses
  }

  /// The gradients of the stage from the last `computeGradients`, block by block.
  public var lastGradients: [ResidualBlockGradients] { gradients }
  /// Every optimiser's state, the block's arrays' first and the heads' last (for checkpoints).
  public var optimizerStates: [OptimizerState] {
    get { core.optimizers.states }
    set { core.optimizers.states = newValue }
  }

  /// The gradients of the heads' parameters from the last `computeGradients`.
  public var lastHeadGradients: [Float] { core.headGradients }

  /// One training step: `computeGradients`, then every trainable array of the stage and the
  /// heads' parameters move by the optimiser. Returns the losses before the update.
  @discardableResult
  public func step(
    blockInput: UnsafeBufferPointer<Float>, fixed: UnsafeBufferPointer<Float>, count: Int, targets: [HeadTargets]
  ) throws -> HeadLosses {
    let losses = try computeGradients(blockInput: blockInput, fixed: fixed, count: count, targets: targets)
    // The table in the optimisers' order: per unit, kernel and bias, then gamma and beta when
    // batch norm's affine parameters train at all.
    var table: [TrainableArray] = []
    for b in stage.blocks.indices {
      for (u, (unit, gradient)) in Self.units(stage.blocks[b]).enumerated() {
        let conv = trains[b][u].conv
        table.append(
          TrainableArray(trains: conv) {
            $0.step(&self.stage.blocks[b][keyPath: unit].kernel, gradients: self.gradients[b][keyPath: gradient].kernel)
          })
        table.append(
          TrainableArray(trains: conv) {
            $0.step(&self.stage.blocks[b][keyPath: unit].bias, gradients: self.gradients[b][keyPath: gradient].bias)
          })
        guard batchNorm.trainsAffine else { continue }
        let affine = trains[b][u].batchNorm
        table.append(
          TrainableArray(trains: affine) {
            $0.step(
              &self.stage.blocks[b][keyPath: unit].batchNorm.gamma,
              gradients: self.gradients[b][keyPath: gradient].gamma)
          })
        table.append(
          TrainableArray(trains: affine) {
            $0.step(
              &self.stage.blocks[b][keyPath: unit].batchNorm.beta, gradients: self.gradients[b][keyPath: gradient].beta)
          })
      }
    }
    core.step(table)
    return losses
  }

  /// Sets the stage's gradients to zero with memset (15M every step); the heads' are zeroed by
  /// `core.headsBackward`.
  private func zeroGradients() {
    func zero(_ array: inout [Float]) { array.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
    for b in gradients.indices {
      for (_, unit) in Self.units(stage.blocks[b]) {
        zero(&gradients[b][keyPath: unit].kernel)
        zero(&gradients[b][keyPath: unit].bias)
        zero(&gradients[b][keyPath: unit].gamma)
        zero(&gradients[b][keyPath: unit].beta)
      }
    }
  }

  private func forward(
    _ work: StageWorkspace, blockInput: UnsafeBufferPointer<Float>, parameters: inout ResNet50LastStage,
    mode: BatchNormMode
  ) {
    for b in 0..<3 {
      if b == 0 {
        residualBlockForward(work.activations[0], input: blockInput, parameters: &parameters.blocks[0], mode: mode)
      } else {
        work.activations[b - 1].withOutput { input in
          residualBlockForward(work.activations[b], input: input, parameters: &parameters.blocks[b], mode: mode)
        }
      }
    }
    work.activations[2].withOutput { work.top.forward($0) }
  }

}

/// The buffers one batch size needs: the blocks' saved activations and the head-side rows.
final class StageWorkspace {
  let shapes: [ResidualBlockShape]
  let activations: [ResidualBlockActivations]
  let top: PooledHeads
  let dOutputs: [UnsafeMutableBufferPointer<Float>]  // 2 x (N, OH, OW, 2048), used in turn

  init(shapes: [ResidualBlockShape], row: FeatureRow?) {
    self.shapes = shapes
    activations = shapes.map { ResidualBlockActivations(shape: $0) }
    let last = shapes[2]
    top = PooledHeads(
      batch: last.batch, height: last.conv3.outputHeight, width: last.conv3.outputWidth,
      channels: last.outChannels, row: row)
    dOutputs = (0..<2).map { _ in .allocate(capacity: last.outputCount) }
    for buffer in dOutputs { buffer.initialize(repeating: 0) }
  }

  deinit {
    for buffer in dOutputs { buffer.deallocate() }
  }
}
