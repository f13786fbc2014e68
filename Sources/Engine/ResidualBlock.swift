// One ResNet50 bottleneck block, forward and backward, for fine-tuning the last stage (conv5).
//
// He et al., "Deep Residual Learning for Image Recognition" (2015), as keras.applications.resnet
// builds it (`block1`): with `filters` F and 4F output channels,
//   main:      x -> 1x1/stride conv -> BN -> ReLU -> 3x3 'same' conv -> BN -> ReLU
//                -> 1x1 conv -> BN                          (convN_blockM_1/2/3_conv, _bn)
//   shortcut:  x -> 1x1/stride conv -> BN                   (convN_blockM_0_conv, _bn; block 1)
//              or x itself                                  (blocks 2, 3: identity)
//   output:    ReLU(main + shortcut)                        (convN_blockM_add, _out)
// Keras puts the stride on the first 1x1 convolution; every convolution has a bias and every
// batch norm epsilon 1.001e-5. Activations are NHWC, kernels HWIO, as in the rest of the engine.
//
// The forward keeps, in `ResidualBlockActivations`, exactly what the backward needs (the block
// input x stays with the caller; it is usually the previous block's output):
//   z1, z2, z3, zs   each convolution's output before its batch norm  (BN backward reads it)
//   a1, a2           the main branch after BN + ReLU  (ReLU backward; input of the next conv)
//   output           the block output after the final ReLU  (ReLU backward)
//   statistics       each batch norm's batch mean and 1/std (training mode only)
// plus scratch for im2col and the gradients, allocated once with the activations.

/// How the block's batch norms run.
public enum BatchNormMode: Sendable, Equatable {
  /// Moving statistics, unchanged (Keras `training=False`; the usual choice for fine-tuning).
  case frozen
  /// Batch statistics; the moving mean and variance move with `momentum` (Keras: 0.99).
  case training(momentum: Float)
}

/// The sizes of one bottleneck block: input (batch, height, width, inChannels), output
/// (batch, ceil(height / stride), ceil(width / stride), 4 * filters).
public struct ResidualBlockShape: Sendable, Equatable {
  public var batch: Int
  public var height: Int
  public var width: Int
  public var inChannels: Int
  public var filters: Int
  public var stride: Int
  /// true for a block with a 1x1 convolution + BN on the shortcut (Keras `conv_shortcut`).
  public var convolutionShortcut: Bool

  public init(
    batch: Int, height: Int, width: Int, inChannels: Int, filters: Int, stride: Int, convolutionShortcut: Bool
  ) {
    precondition(convolutionShortcut || (stride == 1 && inChannels == 4 * filters), "identity shortcut shape")
    self.batch = batch
    self.height = height
    self.width = width
    self.inChannels = inChannels
    self.filters = filters
    self.stride = stride
    self.convolutionShortcut = convolutionShortcut
  }

  public var outChannels: Int { 4 * filters }
  private var strided: Window2D { Window2D(height: 1, width: 1, strideHeight: stride, strideWidth: stride) }
  /// convN_blockM_1_conv: 1x1 with the block's stride.
  public var conv1: ConvShape {
    ConvShape(
      batch: batch, height: height, width: width, inChannels: inChannels, outChannels: filters,
      window: strided)
  }
  /// convN_blockM_2_conv: 3x3 'same', stride 1.
  public var conv2: ConvShape {
    let (h, w) = (conv1.outputHeight, conv1.outputWidth)
    let pad = Padding2D.same(height: h, width: w, window: (3, 3), stride: (1, 1))
    let window = Window2D(height: 3, width: 3, strideHeight: 1, strideWidth: 1, padding: pad)
    return ConvShape(
      batch: batch, height: h, width: w, inChannels: filters, outChannels: filters, window: window)
  }
  /// convN_blockM_3_conv: 1x1 to 4 * filters.
  public var conv3: ConvShape {
    ConvShape(
      batch: batch, height: conv1.outputHeight, width: conv1.outputWidth, inChannels: filters,
      outChannels: outChannels, window: Window2D(height: 1, width: 1, strideHeight: 1, strideWidth: 1))
  }
  /// convN_blockM_0_conv: the shortcut's 1x1 with the block's stride.
  public var shortcut: ConvShape {
    ConvShape(
      batch: batch, height: height, width: width, inChannels: inChannels, outChannels: outChannels,
      window: strided)
  }
  /// Elements of the input (N, H, W, Cin).
  public var inputCount: Int { batch * height * width * inChannels }
  /// Elements of the output (N, OH, OW, 4F).
  public var outputCount: Int { conv3.outputCount }
  /// Elements of the main branch's inner activations (N, OH, OW, F).
  public var middleCount: Int { conv1.outputCount }
}

/// A convolution with its bias and the batch norm that follows it.
public struct ConvBatchNormParameters: Sendable {
  /// HWIO (KH, KW, Cin, Cout), Keras' layout.
  public var kernel: [Float]
  /// (Cout)
  public var bias: [Float]
  public var batchNorm: BatchNormParameters

  public init(kernel: [Float], bias: [Float], batchNorm: BatchNormParameters) {
    precondition(bias.count == batchNorm.channels, "conv bias and batch norm widths differ")
    self.kernel = kernel
    self.bias = bias
    self.batchNorm = batchNorm
  }
}

/// The trainable parameters of one block; `shortcut` is nil for an identity shortcut.
public struct ResidualBlockParameters: Sendable {
  public var conv1: ConvBatchNormParameters
  public var conv2: ConvBatchNormParameters
  public var conv3: ConvBatchNormParameters
  public var shortcut: ConvBatchNormParameters?

  public init(
    conv1: ConvBatchNormParameters, conv2: ConvBatchNormParameters, conv3: ConvBatchNormParameters,
    shortcut: ConvBatchNormParameters?
  ) {
    self.conv1 = conv1
    self.conv2 = conv2
    self.conv3 = conv3
    self.shortcut = shortcut
  }
}

/// Gradients of one convolution + batch norm pair, the shapes of its parameters.
public struct ConvBatchNormGradients: Sendable {
  public var kernel: [Float]
  public var bias: [Float]
  public var gamma: [Float]
  public var beta: [Float]

  /// Zero gradients for `parameters`.
  public init(zerosFor parameters: ConvBatchNormParameters) {
    kernel = [Float](repeating: 0, count: parameters.kernel.count)
    bias = [Float](repeating: 0, count: parameters.bias.count)
    gamma = [Float](repeating: 0, count: parameters.batchNorm.channels)
    beta = gamma
  }

  /// Sets every gradient to zero (once per step: backward accumulates).
  public mutating func zero() {
    for i in kernel.indices { kernel[i] = 0 }
    for i in bias.indices { bias[i] = 0 }
    for i in gamma.indices {
      gamma[i] = 0
      beta[i] = 0
    }
  }
}

/// Gradients of a whole block, laid out like `ResidualBlockParameters`.
public struct ResidualBlockGradients: Sendable {
  public var conv1: ConvBatchNormGradients
  public var conv2: ConvBatchNormGradients
  public var conv3: ConvBatchNormGradients
  public var shortcut: ConvBatchNormGradients?

  public init(zerosFor p: ResidualBlockParameters) {
    conv1 = ConvBatchNormGradients(zerosFor: p.conv1)
    conv2 = ConvBatchNormGradients(zerosFor: p.conv2)
    conv3 = ConvBatchNormGradients(zerosFor: p.conv3)
    shortcut = p.shortcut.map { ConvBatchNormGradients(zerosFor: $0) }
  }

  public mutating func zero() {
    conv1.zero()
    conv2.zero()
    conv3.zero()
    shortcut?.zero()
  }
}
