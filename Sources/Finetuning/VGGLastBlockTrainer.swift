// Training a VGG's block5 together with the heads, one batch at a time, as Keras does with
// the layers before block5 frozen:
//
//   block input (N, H, W, 512)   block4_pool, from the frozen prefix (or a cache of it)
//   block5_conv1..n              conv 3x3 'same' + ReLU, each output kept   -> (N, H, W, 512)
//   block5_pool                  max pool 2x2/2                            -> (N, H/2, W/2, 512)
//   GAP, L2, heads               PooledHeads
// and back: ReLU and convolution backward layer by layer (the first convolution's input
// gradient is not needed), max pool backward (TF's first-maximum routing), then one optimiser
// step per trainable array and over the heads.
import Backbones
import Engine
import Heads

/// A VGG's block5 and a set of heads, trained end to end on batches of block inputs.
/// Not for concurrent use.
public final class VGGLastBlockTrainer {
  /// The block's current weights; replace only with a block of the same kind.
  public var block: VGGLastBlock
  /// The heads' current weights; replace only with heads of the same specs.
  public var heads: MultiHeadModel {
    get { core.heads }
    set { core.heads = newValue }
  }
  /// The block input's spatial size (block4_pool of the training images).
  public let inputHeight: Int
  public let inputWidth: Int

  private var kernelGradients: [[Float]]
  private var biasGradients: [[Float]]
  /// Heads, optimisers (kernel and bias of each convolution in turn, then the heads') and buffers.
  private let core: TrainerCore<VGGWorkspace>
  /// Per convolution: whether it trains.
  private let trains: [Bool]

  /// A trainer starting from `block` and `heads`, for block inputs of inputHeight x inputWidth
  /// (at least 2 x 2, or block5_pool is empty). The same optimiser kind and weight decay apply
  /// to the block and the heads. `trainable` names the convolutions that train
  /// (`LastBlock.unfrozenLayers`; nil: all); the others keep their weights, and no gradient
  /// flows below the first one that trains.
  public init(
    block: VGGLastBlock, heads: MultiHeadModel, optimizer: OptimizerKind, weightDecay: Double? = nil,
    trainable: Set<String>? = nil, row: FeatureRow? = nil, inputHeight: Int, inputWidth: Int
  ) throws {
    self.block = block
    self.inputHeight = inputHeight
    self.inputWidth = inputWidth
    let names = (try? VGGLastBlock.layerNames(block.kind)) ?? []
    trains = names.map { trainable?.contains($0) ?? true }
    kernelGradients = block.kernels.map { [Float](repeating: 0, count: $0.count) }
    biasGradients = block.biases.map { [Float](repeating: 0, count: $0.count) }
    let convolutions = block.kernels.count
    core = try TrainerCore(
      heads: heads, blockChannels: VGGLastBlock.channels, row: row, optimizer: optimizer, weightDecay: weightDecay,
      arrayCounts: zip(block.kernels, block.biases).flatMap { [$0.count, $1.count] },
      inputFloats: inputHeight * inputWidth * VGGLastBlock.channels
    ) { count in
      VGGWorkspace(
        shape: VGGLastBlock.convShape(batch: count, height: inputHeight, width: inputWidth),
        convolutions: convolutions, row: row)
    }
  }

  /// The heads' input rows (N, D) of `count` block inputs (N, H, W, 512) and their fixed
  /// features (N, row.fixedWidth) with the current weights: block5, GAP, L2, as `extract`
  /// computes the tap block5_pool, beside the fixed taps (D = 512 without any).
  public func features(blockInput: UnsafeBufferPointer<Float>, fixed: UnsafeBufferPointer<Float>, count: Int)
    throws -> [Float]
  {
    let work = try core.workspace(blockInput: blockInput, fixed: fixed, count: count)
    work.top.setFixed(fixed)
    forward(work, blockInput: blockInput)
    return Array(work.top.features)
  }

  /// `loss` and `features` of one batch, from its one forward pass.
  public func lossAndFeatures(
    blockInput: UnsafeBufferPointer<Float>, fixed: UnsafeBufferPointer<Float>, count: Int, targets: [HeadTargets]
  ) throws -> (losses: HeadLosses, features: [Float]) {
    let work = try core.workspace(blockInput: blockInput, fixed: fixed, count: count)
    work.top.setFixed(fixed)
    forward(work, blockInput: blockInput)
    return (core.loss(work.top, targets: targets), Array(work.top.features))
  }

  /// The losses of one batch with the current weights, forward only.
  public func loss(
    blockInput: UnsafeBufferPointer<Float>, fixed: UnsafeBufferPointer<Float>, count: Int, targets: [HeadTargets]
  ) throws -> HeadLosses {
    let work = try core.workspace(blockInput: blockInput, fixed: fixed, count: count)
    work.top.setFixed(fixed)
    forward(work, blockInput: blockInput)
    return core.loss(work.top, targets: targets)
  }

  /// Forward and backward over one batch (N, H, W, 512) with its `targets` (one per head, N
  /// rows each) and its fixed features (N, row.fixedWidth; none by default): returns the losses
  /// before any update and leaves the gradients in `lastKernelGradients`, `lastBiasGradients`
  /// and `lastHeadGradients`.
  @discardableResult
  public func computeGradients(
    blockInput: UnsafeBufferPointer<Float>, fixed: UnsafeBufferPointer<Float> = .init(start: nil, count: 0),
    count: Int, targets: [HeadTargets]
  ) throws -> HeadLosses {
    let work = try core.workspace(blockInput: blockInput, fixed: fixed, count: count)
    work.top.setFixed(fixed)
    forward(work, blockInput: blockInput)
    for i in kernelGradients.indices {
      kernelGradients[i].withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
      biasGradients[i].withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
    let losses = core.headsBackward(work.top, targets: targets, dOutput: work.dPool)
    let s = work.shape
    let last = work.outputs.count - 1
    // dActivation holds the gradient at conv i's output after ReLU; dPre before it.
    var dActivation = work.dBuffers[0]
    let dPre = work.dBuffers[1]
    var dBelow = work.dBuffers[2]
    dActivation.update(repeating: 0)
    maxPool2dBackward(
      dActivation, UnsafeBufferPointer(work.dPool), input: UnsafeBufferPointer(work.outputs[last]), batch: s.batch,
      height: s.height, width: s.width, channels: VGGLastBlock.channels, window: VGGLastBlock.pool)
    // Gradients flow down to the first convolution that trains; its input is frozen.
    guard let first = trains.firstIndex(of: true) else { return losses }
    for i in stride(from: last, through: first, by: -1) {
      dPre.update(repeating: 0)
      reluBackward(dPre, UnsafeBufferPointer(dActivation), y: UnsafeBufferPointer(work.outputs[i]))
      if i > first { dBelow.update(repeating: 0) }
      let input = i > 0 ? UnsafeBufferPointer(work.outputs[i - 1]) : blockInput
      let dInput = i > first ? dBelow : nil
      kernelGradients[i].withUnsafeMutableBufferPointer { dKernel in
        biasGradients[i].withUnsafeMutableBufferPointer { dBias in
          block.kernels[i].withUnsafeBufferPointer { kernel in
            conv2dBackward(
              dInput: dInput, dKernel: dKernel, dBias: dBias, dOutput: UnsafeBufferPointer(dPre), input: input,
              kernel: kernel, shape: s, scratch: work.scratch)
          }
        }
      }
      swap(&dActivation, &dBelow)
    }
    return losses
  }

  /// The kernel gradients (HWIO) of block5_conv1... from the last `computeGradients`.
  public var lastKernelGradients: [[Float]] { kernelGradients }
  /// The bias gradients of block5_conv1... from the last `computeGradients`.
  public var lastBiasGradients: [[Float]] { biasGradients }
  /// The gradients of the heads' parameters from the last `computeGradients`.
  public var lastHeadGradients: [Float] { core.headGradients }
  /// Every optimiser's state, the block's arrays' first and the heads' last (for checkpoints).
  public var optimizerStates: [OptimizerState] {
    get { core.optimizers.states }
    set { core.optimizers.states = newValue }
  }

  /// One training step: `computeGradients`, then every kernel and bias of the block and the
  /// heads' parameters move by the optimiser. Returns the losses before the update.
  @discardableResult
  public func step(
    blockInput: UnsafeBufferPointer<Float>, fixed: UnsafeBufferPointer<Float>, count: Int, targets: [HeadTargets]
  ) throws -> HeadLosses {
    let losses = try computeGradients(blockInput: blockInput, fixed: fixed, count: count, targets: targets)
    core.step(
      block.kernels.indices.flatMap { i in
        [
          TrainableArray(trains: trains[i]) { $0.step(&self.block.kernels[i], gradients: self.kernelGradients[i]) },
          TrainableArray(trains: trains[i]) { $0.step(&self.block.biases[i], gradients: self.biasGradients[i]) },
        ]
      })
    return losses
  }

  private func forward(_ work: VGGWorkspace, blockInput: UnsafeBufferPointer<Float>) {
    for i in work.outputs.indices {
      let input = i == 0 ? blockInput : UnsafeBufferPointer(work.outputs[i - 1])
      block.kernels[i].withUnsafeBufferPointer { kernel in
        block.biases[i].withUnsafeBufferPointer { bias in
          conv2dForward(
            work.outputs[i], input, kernel: kernel, bias: bias, shape: work.shape, activation: .relu,
            scratch: work.scratch)
        }
      }
    }
    let s = work.shape
    maxPool2dForward(
      work.pooled, UnsafeBufferPointer(work.outputs.last!), batch: s.batch, height: s.height, width: s.width,
      channels: VGGLastBlock.channels, window: VGGLastBlock.pool, padValue: 0)
    work.top.forward(UnsafeBufferPointer(work.pooled))
  }
}

/// The buffers one batch size needs.
final class VGGWorkspace {
  let shape: ConvShape
  let outputs: [UnsafeMutableBufferPointer<Float>]  // per conv (N, H, W, 512), after ReLU
  let pooled: UnsafeMutableBufferPointer<Float>  // (N, H/2, W/2, 512) block5_pool
  let dPool: UnsafeMutableBufferPointer<Float>  // (N, H/2, W/2, 512)
  let dBuffers: [UnsafeMutableBufferPointer<Float>]  // 3 x (N, H, W, 512), rotated
  let scratch: UnsafeMutableBufferPointer<Float>  // im2col columns
  let top: PooledHeads

  init(shape: ConvShape, convolutions: Int, row: FeatureRow?) {
    self.shape = shape
    let count = shape.outputCount
    let (oh, ow) = (VGGLastBlock.pool.outputHeight(shape.height), VGGLastBlock.pool.outputWidth(shape.width))
    let pooledCount = shape.batch * oh * ow * VGGLastBlock.channels
    outputs = (0..<convolutions).map { _ in .allocate(capacity: count) }
    pooled = .allocate(capacity: pooledCount)
    dPool = .allocate(capacity: pooledCount)
    dBuffers = (0..<3).map { _ in .allocate(capacity: count) }
    scratch = .allocate(capacity: max(conv2dScratchCount(shape), shape.patchSize))
    for buffer in outputs + dBuffers + [pooled, dPool, scratch] { buffer.initialize(repeating: 0) }
    top = PooledHeads(batch: shape.batch, height: oh, width: ow, channels: VGGLastBlock.channels, row: row)
  }

  deinit {
    for buffer in outputs + dBuffers + [pooled, dPool, scratch] { buffer.deallocate() }
  }
}
