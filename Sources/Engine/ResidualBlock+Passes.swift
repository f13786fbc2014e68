// Forward and backward passes of one ResNet50 bottleneck block (ResidualBlock.swift explains
// the block and what is kept). Activations NHWC; shapes below use (N, OH, OW, F) for the main
// branch's inner tensors and (N, OH, OW, 4F) for the block output.

/// What one forward pass of a block keeps for its backward pass, plus the scratch both passes
/// use, in one allocation with named views. Sized for one `ResidualBlockShape` at creation;
/// reuse it every step (nothing is allocated per pass). Not for concurrent use.
public final class ResidualBlockActivations: @unchecked Sendable {
  public let shape: ResidualBlockShape
  private let storage: UnsafeMutableBufferPointer<Float>
  // Kept by forward for backward.
  let z1: UnsafeMutableBufferPointer<Float>  // (N, OH, OW, F) conv1 output, before BN
  let a1: UnsafeMutableBufferPointer<Float>  // (N, OH, OW, F) after BN + ReLU
  let z2: UnsafeMutableBufferPointer<Float>  // (N, OH, OW, F) conv2 output, before BN
  let a2: UnsafeMutableBufferPointer<Float>  // (N, OH, OW, F) after BN + ReLU
  let z3: UnsafeMutableBufferPointer<Float>  // (N, OH, OW, 4F) conv3 output, before BN
  let zs: UnsafeMutableBufferPointer<Float>  // (N, OH, OW, 4F) shortcut conv output (empty if identity)
  let output: UnsafeMutableBufferPointer<Float>  // (N, OH, OW, 4F) after add + ReLU
  var statistics: [BatchNormBatchStatistics]  // conv1, conv2, conv3, shortcut BNs (training mode)
  /// The batch-norm mode of the last forward pass; backward differentiates that function.
  public private(set) var mode: BatchNormMode = .frozen
  // Work space.
  let branch: UnsafeMutableBufferPointer<Float>  // (N, OH, OW, 4F) shortcut BN output / gradient
  let gradient: UnsafeMutableBufferPointer<Float>  // (N, OH, OW, 4F) gradient at the sum
  let middle: [UnsafeMutableBufferPointer<Float>]  // 3 x (N, OH, OW, F) gradients, rotated
  let scratch: UnsafeMutableBufferPointer<Float>  // im2col columns, the largest of the convs

  public init(shape: ResidualBlockShape) {
    self.shape = shape
    let (mid, out) = (shape.middleCount, shape.outputCount)
    let shortcutCount = shape.convolutionShortcut ? out : 0
    let convs = [shape.conv1, shape.conv2, shape.conv3, shape.shortcut]
    let scratchCount = convs.map { max(conv2dScratchCount($0), $0.patchSize) }.max()!
    let sizes = [mid, mid, mid, mid, out, shortcutCount, out, out, out, mid, mid, mid, scratchCount]
    storage = .allocate(capacity: sizes.reduce(0, +))
    storage.initialize(repeating: 0)
    var offset = 0
    var views: [UnsafeMutableBufferPointer<Float>] = []
    for size in sizes {
      views.append(UnsafeMutableBufferPointer(rebasing: storage[offset..<(offset + size)]))
      offset += size
    }
    (z1, a1, z2, a2, z3, zs, output) = (views[0], views[1], views[2], views[3], views[4], views[5], views[6])
    (branch, gradient, middle, scratch) = (views[7], views[8], [views[9], views[10], views[11]], views[12])
    statistics = [shape.filters, shape.filters, shape.outChannels, shape.outChannels].map {
      BatchNormBatchStatistics(channels: $0)
    }
  }

  deinit { storage.deallocate() }

  /// Lends the block output (N, OH, OW, 4F) of the last forward pass for the duration of `body`.
  public func withOutput<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(output))
  }

  /// The block output (N, OH, OW, 4F) of the last forward pass, copied.
  public var outputArray: [Float] { Array(output) }

  func setMode(_ m: BatchNormMode) { mode = m }
}

/// Runs one block forward on `input` (N, H, W, Cin), keeping what the backward pass needs in
/// `activations` (whose output view then holds (N, OH, OW, 4F)). In `.training` mode the
/// batch norms use batch statistics and update `parameters`' moving mean and variance.
public func residualBlockForward(
  _ activations: ResidualBlockActivations,
  input: UnsafeBufferPointer<Float>,
  parameters p: inout ResidualBlockParameters,
  mode: BatchNormMode
) {
  let s = activations.shape
  let a = activations
  precondition(input.count >= s.inputCount, "residualBlockForward: input too small")
  precondition((p.shortcut != nil) == s.convolutionShortcut, "residualBlockForward: shortcut mismatch")
  a.setMode(mode)
  convBatchNormForward(a.z1, a.a1, input, &p.conv1, s.conv1, mode, &a.statistics[0], a.scratch)
  reluInPlace(a.a1)
  convBatchNormForward(
    a.z2, a.a2, UnsafeBufferPointer(a.a1), &p.conv2, s.conv2, mode, &a.statistics[1], a.scratch)
  reluInPlace(a.a2)
  convBatchNormForward(
    a.z3, a.output, UnsafeBufferPointer(a.a2), &p.conv3, s.conv3, mode, &a.statistics[2], a.scratch)
  if var shortcut = p.shortcut {
    convBatchNormForward(a.zs, a.branch, input, &shortcut, s.shortcut, mode, &a.statistics[3], a.scratch)
    p.shortcut = shortcut
    addInPlace(a.output, UnsafeBufferPointer(a.branch))
  } else {
    addInPlace(a.output, UnsafeBufferPointer(rebasing: input[0..<s.outputCount]))
  }
  reluInPlace(a.output)
}

/// Backward through one block from dOutput (N, OH, OW, 4F), for the function the last
/// `residualBlockForward` on `activations` computed (same `input`, same `parameters`).
/// ACCUMULATES every parameter gradient into `gradients` and, unless nil, the input gradient
/// into `dInput` (N, H, W, Cin) (nil for the first trained block, whose input is frozen).
/// gamma and beta get gradients in both modes; whether they are trained is the caller's choice
/// (Keras freezes them with a layer's `trainable = False`).
public func residualBlockBackward(
  dInput: UnsafeMutableBufferPointer<Float>?,
  gradients g: inout ResidualBlockGradients,
  dOutput: UnsafeBufferPointer<Float>,
  input: UnsafeBufferPointer<Float>,
  parameters p: ResidualBlockParameters,
  activations a: ResidualBlockActivations
) {
  let s = a.shape
  precondition(dOutput.count >= s.outputCount, "residualBlockBackward: dOutput too small")
  precondition(input.count >= s.inputCount, "residualBlockBackward: input too small")
  precondition(dInput == nil || dInput!.count >= s.inputCount, "residualBlockBackward: dInput too small")
  precondition((p.shortcut != nil) == s.convolutionShortcut, "residualBlockBackward: shortcut mismatch")
  let mode = a.mode
  let (m0, m1, m2) = (a.middle[0], a.middle[1], a.middle[2])
  // The final ReLU: the gradient at the sum, shared by both branches.
  a.gradient.update(repeating: 0)
  reluBackward(a.gradient, dOutput, y: UnsafeBufferPointer(a.output))
  let dSum = UnsafeBufferPointer(a.gradient)
  // Main branch, last layer first; m0 receives each convolution's input gradient.
  m0.update(repeating: 0)
  convBatchNormBackward(
    m0, &g.conv3, dSum, a.branch, a.z3, UnsafeBufferPointer(a.a2), p.conv3, s.conv3, mode, a.statistics[2],
    a.scratch)
  m1.update(repeating: 0)
  reluBackward(m1, UnsafeBufferPointer(m0), y: UnsafeBufferPointer(a.a2))
  m0.update(repeating: 0)
  convBatchNormBackward(
    m0, &g.conv2, UnsafeBufferPointer(m1), m2, a.z2, UnsafeBufferPointer(a.a1), p.conv2, s.conv2, mode,
    a.statistics[1], a.scratch)
  m1.update(repeating: 0)
  reluBackward(m1, UnsafeBufferPointer(m0), y: UnsafeBufferPointer(a.a1))
  convBatchNormBackward(
    dInput, &g.conv1, UnsafeBufferPointer(m1), m2, a.z1, input, p.conv1, s.conv1, mode, a.statistics[0],
    a.scratch)
  // Shortcut.
  if let shortcut = p.shortcut {
    precondition(g.shortcut != nil, "residualBlockBackward: gradients lack the shortcut")
    convBatchNormBackward(
      dInput, &g.shortcut!, dSum, a.branch, a.zs, input, shortcut, s.shortcut, mode, a.statistics[3],
      a.scratch)
  } else if let dInput {
    addBackward(dA: UnsafeMutableBufferPointer(rebasing: dInput[0..<s.outputCount]), dB: nil, dSum)
  }
}

/// z = conv(input) + bias; y = BN(z). z and y (N, OH, OW, Cout).
private func convBatchNormForward(
  _ z: UnsafeMutableBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>,
  _ input: UnsafeBufferPointer<Float>, _ unit: inout ConvBatchNormParameters, _ shape: ConvShape,
  _ mode: BatchNormMode, _ statistics: inout BatchNormBatchStatistics,
  _ scratch: UnsafeMutableBufferPointer<Float>
) {
  unit.kernel.withUnsafeBufferPointer { k in
    unit.bias.withUnsafeBufferPointer { b in
      conv2dForward(z, input, kernel: k, bias: b, shape: shape, scratch: scratch)
    }
  }
  let rows = shape.batch * shape.outputHeight * shape.outputWidth
  switch mode {
  case .frozen:
    batchNormFrozenForward(y, UnsafeBufferPointer(z), rows: rows, batchNorm: unit.batchNorm)
  case .training(let momentum):
    batchNormTrainingForward(
      y, UnsafeBufferPointer(z), rows: rows, batchNorm: &unit.batchNorm, momentum: momentum,
      statistics: &statistics)
  }
}

/// From dy, the gradient at the BN output (N, OH, OW, Cout): BN backward into the work buffer
/// dz (overwritten), then the convolution's backward, accumulating into `gradients` and dInput.
private func convBatchNormBackward(
  _ dInput: UnsafeMutableBufferPointer<Float>?, _ gradients: inout ConvBatchNormGradients,
  _ dy: UnsafeBufferPointer<Float>, _ dz: UnsafeMutableBufferPointer<Float>,
  _ z: UnsafeMutableBufferPointer<Float>, _ input: UnsafeBufferPointer<Float>,
  _ unit: ConvBatchNormParameters, _ shape: ConvShape, _ mode: BatchNormMode,
  _ statistics: BatchNormBatchStatistics, _ scratch: UnsafeMutableBufferPointer<Float>
) {
  let rows = shape.batch * shape.outputHeight * shape.outputWidth
  let count = shape.outputCount
  let dz = UnsafeMutableBufferPointer(rebasing: dz[0..<count])
  let z = UnsafeBufferPointer(rebasing: z[0..<count])
  dz.update(repeating: 0)
  gradients.gamma.withUnsafeMutableBufferPointer { dGamma in
    gradients.beta.withUnsafeMutableBufferPointer { dBeta in
      switch mode {
      case .frozen:
        batchNormFrozenBackward(
          dx: dz, dGamma: dGamma, dBeta: dBeta, dy: dy, x: z, rows: rows, batchNorm: unit.batchNorm)
      case .training:
        unit.batchNorm.gamma.withUnsafeBufferPointer { gamma in
          batchNormTrainingBackward(
            dx: dz, dGamma: dGamma, dBeta: dBeta, dy: dy, x: z, rows: rows, gamma: gamma,
            statistics: statistics)
        }
      }
    }
  }
  gradients.kernel.withUnsafeMutableBufferPointer { dKernel in
    gradients.bias.withUnsafeMutableBufferPointer { dBias in
      unit.kernel.withUnsafeBufferPointer { kernel in
        conv2dBackward(
          dInput: dInput, dKernel: dKernel, dBias: dBias, dOutput: UnsafeBufferPointer(dz), input: input,
          kernel: kernel, shape: shape, scratch: scratch)
      }
    }
  }
}
