// A backbone ready to run: weights checked and batch norms folded once, then a forward pass
// that stops after the last requested tap and returns pooled, L2-normalised features.
//
// Input (N, H, W, 3) NHWC float32, 'caffe'-preprocessed BGR; activations NHWC; kernels HWIO.
import Engine
import Foundation

/// A frozen keras.applications backbone (include_top=False) with its weights bound.
///
/// Immutable after `init` except for a cached workspace that `features` and `activations` borrow under a lock
/// (a concurrent call allocates its own), so one instance can serve several threads; each
/// call's GEMMs use the OpenBLAS thread pool.
public final class Backbone: @unchecked Sendable {
  public let kind: BackboneKind
  /// How many images one forward pass holds in its activation buffers; larger batches run
  /// in passes of this size (results do not depend on it).
  public let imagesPerPass: Int
  /// Whether 3x3 stride-1 convolutions run as Winograd convolutions instead of im2col + GEMM.
  public let winograd: Bool
  /// With `winograd`: F(4x4, 3x3) (the default: 4x fewer multiplications than direct
  /// convolution) rather than F(2x2, 3x3) (2.25x). The larger tiles round more inside a layer
  /// (~4x), yet the pooled, normalised features stay within 7e-7 of Keras' on the parity
  /// fixtures (1e-5 required); Docs/performance.md has the figures.
  public let largeWinogradTiles: Bool

  let architecture: Architecture
  /// Folded kernels (HWIO) and biases of all convolutions, one allocation.
  let parameters: [Float]
  /// Per layer (by index): where its folded kernel and bias sit in `parameters`. The kernel is
  /// packed by `packConvolutionKernel` for `method(shape)` (Winograd-transformed or plain).
  let parameterRanges: [(kernel: Range<Int>, bias: Range<Int>)?]
  let layerIndex: [String: Int]

  /// The activation slots, scratch and pooling rows of the last `features` call, kept so the
  /// next call neither allocates nor page-faults 100+ MB afresh.
  private var cachedWorkspace: UnsafeMutableBufferPointer<Float>?
  private let workspaceLock = NSLock()

  /// Binds `weights` strictly (every array `parameterSpecs(for: kind)` lists must be present
  /// with its Keras shape; extra arrays are ignored) and folds every batch norm into its
  /// convolution (and, with `winograd`, transforms the 3x3 stride-1 kernels).
  public init(
    kind: BackboneKind, weights: KerasWeights, imagesPerPass: Int = 16, winograd: Bool = true,
    largeWinogradTiles: Bool = true
  ) throws {
    try kind.validateWeights(weights)
    self.kind = kind
    self.imagesPerPass = max(1, imagesPerPass)
    self.winograd = winograd
    self.largeWinogradTiles = largeWinogradTiles
    let architecture = kind.architecture
    self.architecture = architecture
    // One allocation, sized once (growing it layer by layer would briefly hold two copies,
    // VGG19: ~2 x 330 MB), every layer packed straight into its place.
    var ranges: [(kernel: Range<Int>, bias: Range<Int>)?] = []
    var total = 0
    for layer in architecture.layers {
      guard case .conv(let conv) = layer.operation else {
        ranges.append(nil)
        continue
      }
      let shape = Self.packingShape(conv)
      let method = Self.method(shape, winograd: winograd, largeTiles: largeWinogradTiles)
      let kernel = total..<(total + packedConvolutionKernelCount(shape, method: method))
      ranges.append((kernel, kernel.upperBound..<(kernel.upperBound + conv.outChannels)))
      total = kernel.upperBound + conv.outChannels
    }
    // The layers are independent and write disjoint ranges, so they are folded and packed on
    // every core at once: much of a layer's packing is single-threaded copying and first
    // touches of fresh pages (Docs/performance.md, start-up).
    let layers = architecture.layers
    let places = ranges
    let parameters = [Float](unsafeUninitializedCapacity: total) { buffer, initialized in
      nonisolated(unsafe) let destination = buffer
      DispatchQueue.concurrentPerform(iterations: layers.count) { index in
        guard case .conv(let conv) = layers[index].operation, let place = places[index] else { return }
        let stored = weights.layers[conv.name]!
        var kernel = stored[.kernel]!.values
        var bias = stored[.bias]!.values
        if let bnName = conv.batchNorm {
          let bn = weights.layers[bnName]!
          let parameters = BatchNormParameters(
            gamma: bn[.gamma]!.values, beta: bn[.beta]!.values, movingMean: bn[.movingMean]!.values,
            movingVariance: bn[.movingVariance]!.values, epsilon: ResNet50Table.batchNormEpsilon)
          (kernel, bias) = foldBatchNorm(kernel: kernel, bias: bias, batchNorm: parameters)
        }
        // Packed once for the engine's own GEMM (Winograd-transformed first for 3x3 stride 1).
        let shape = Self.packingShape(conv)
        let method = Self.method(shape, winograd: winograd, largeTiles: largeWinogradTiles)
        packConvolutionKernel(
          kernel, shape: shape, method: method, into: UnsafeMutableBufferPointer(rebasing: destination[place.kernel]))
        precondition(bias.count == place.bias.count, "Backbone: bias of \(conv.name)")
        _ = UnsafeMutableBufferPointer(rebasing: destination[place.bias]).initialize(fromContentsOf: bias)
      }
      initialized = total
    }
    self.parameters = parameters
    parameterRanges = ranges
    layerIndex = Dictionary(
      uniqueKeysWithValues: architecture.layers.enumerated().map { ($1.outputName, $0) })
  }

  /// The width (channels) of each tap, presets expanded, in the order given.
  public func tapWidths(_ taps: [String]) throws -> [Int] {
    try kind.resolveTaps(taps).map { architecture.layers[layerIndex[$0]!].outChannels }
  }

  /// The (height, width, channels) a layer outputs for an input of `height` x `width`.
  public func outputShape(ofTap tap: String, height: Int, width: Int) throws -> (
    height: Int, width: Int, channels: Int
  ) {
    try kind.outputShape(ofTap: tap, height: height, width: width)
  }

  /// Features of `count` images.
  ///
  /// input (N, H, W, 3) float32 'caffe'-preprocessed BGR; output (N, sum of tap widths), row
  /// per image: each tap global-average-pooled and L2-normalised, the taps concatenated in
  /// the order given (presets `last` and `blocks` expanded). The forward pass stops after
  /// the last requested tap.
  public func features(
    _ input: UnsafeBufferPointer<Float>, count: Int, height: Int, width: Int, taps: [String]
  ) throws -> [Float] {
    let names = try kind.resolveTaps(taps)
    try kind.checkInputSize(height: height, width: width)
    let imageSize = height * width * 3
    guard input.count == count * imageSize else {
      throw BackboneError(
        kind: kind, reason: .inputCountMismatch(expected: count * imageSize, actual: input.count))
    }
    let tapLayers = names.map { layerIndex[$0]! }
    let widths = tapLayers.map { architecture.layers[$0].outChannels }
    let rowWidth = widths.reduce(0, +)
    var result = [Float](repeating: 0, count: count * rowWidth)
    if count == 0 { return result }

    let last = tapLayers.max()!
    let plan = Array(architecture.plan(height: height, width: width)[0...last])
    result.withUnsafeMutableBufferPointer { out in
      forwardPasses(input, count: count, imageSize: imageSize, plan: plan, extra: widths.max() ?? 1) {
        i, first, n, destination, pooled in
        poolTaps(
          after: i, plan[i], tapLayers: tapLayers, widths: widths, first: first, images: n, output: destination,
          pooled: pooled, into: out)
      }
    }
    return result
  }

  /// Runs `plan` on `count` images in passes (`passSegments`: the early layers of a VGG a few
  /// images at a time, the rest many), in the cached workspace (so a run of many calls, such as
  /// finetune's prefix on every augmented batch, neither allocates nor page-faults hundreds of
  /// MB per call). After layer `i` has run on `n` images starting at image `first`, calls
  /// `afterLayer(i, first, n, output of i, extra)`; `extra` holds `n * extra` floats the caller
  /// may use.
  func forwardPasses(
    _ input: UnsafeBufferPointer<Float>, count: Int, imageSize: Int, plan: [PlannedLayer], extra: Int,
    afterLayer: (Int, Int, Int, UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void
  ) {
    guard count > 0 else { return }
    let segments = passSegments(plan, imageSize: imageSize, count: count)
    let sizes = activationSizes(plan)
    let slotStride = segments.map { segment in  // each segment's largest activation, its input included
      let first = segment.layers.lowerBound
      return segment.images * max(first == 0 ? imageSize : sizes[first - 1], sizes[segment.layers].max()!)
    }.max()!
    let slotsCount = architecture.slotCount * slotStride
    let scratchCount = scratchFloats(plan)
    let most = segments.map(\.images).max()!
    // With two segments, the early one's last output for the late one's images, gathered.
    let split = segments.count > 1 ? segments[0].layers.upperBound - 1 : nil
    let gatheredCount = split.map { segments[1].images * sizes[$0] } ?? 0
    let workspace = borrowWorkspace(capacity: slotsCount + scratchCount + gatheredCount + most * max(1, extra))
    defer { returnWorkspace(workspace) }
    var rest = UnsafeMutableBufferPointer(rebasing: workspace[...])
    func take(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
      defer { rest = UnsafeMutableBufferPointer(rebasing: rest[count...]) }
      return UnsafeMutableBufferPointer(rebasing: rest[..<count])
    }
    let slots = take(slotsCount)
    let scratch = take(scratchCount)
    let gathered = take(gatheredCount)
    let extraFloats = rest
    func slot(_ i: Int, _ n: Int, _ elementsPerImage: Int) -> UnsafeMutableBufferPointer<Float> {
      UnsafeMutableBufferPointer(rebasing: slots[(i * slotStride)..<(i * slotStride + n * elementsPerImage)])
    }
    parameters.withUnsafeBufferPointer { weights in
      func run(_ layers: Range<Int>, first: Int, images n: Int) {
        for i in layers {
          runLayer(i, plan[i], images: n, slot: slot, weights: weights, scratch: scratch)
          afterLayer(i, first, n, slot(architecture.layers[i].output, n, sizes[i]), extraFloats)
        }
      }
      var first = 0
      while first < count {
        let n = min(segments.last!.images, count - first)
        var done = 0
        while done < n {  // the early segment (or the only one), a few images at a time
          let m = min(segments[0].images, n - done)
          let images = (first + done)..<(first + done + m)
          let pixels = (images.lowerBound * imageSize)..<(images.upperBound * imageSize)
          _ = slot(0, m, imageSize).initialize(fromContentsOf: UnsafeBufferPointer(rebasing: input[pixels]))
          run(segments[0].layers, first: images.lowerBound, images: m)
          if let split {
            let output = slot(architecture.layers[split].output, m, sizes[split])
            (gathered.baseAddress! + done * sizes[split]).update(from: output.baseAddress!, count: output.count)
          }
          done += m
        }
        if let split {  // the late segment on all n images at once
          let input = slot(architecture.layers[split].output, n, sizes[split])
          input.baseAddress!.update(from: gathered.baseAddress!, count: input.count)
          run(segments[1].layers, first: first, images: n)
        }
        first += n
      }
    }
  }

  /// Convolution scratch for every layer of `plan` on `computeThreads()` threads (it does not
  /// depend on the images per pass).
  func scratchFloats(_ plan: [PlannedLayer]) -> Int {
    var columns = 0
    let threads = computeThreads()
    for (layer, p) in zip(architecture.layers, plan) {
      if let shape = convShape(layer, p, batch: 1) {
        columns = max(columns, threads * inferenceScratchPerThread(shape, method: method(shape)))
      }
    }
    return max(columns, 1)
  }

  /// Images per pass (`passImages`), elements per image of one activation slot (the largest
  /// activation of the layers in `plan`) and the convolution scratch, for `count` images.
  func workspaceSizes(_ plan: [PlannedLayer], imageSize: Int, count: Int) -> (pass: Int, perImage: Int, scratch: Int) {
    var perImage = imageSize
    for (layer, p) in zip(architecture.layers, plan) {
      perImage = max(perImage, p.outHeight * p.outWidth * layer.outChannels)
    }
    return (passImages(count: count, perImage: perImage), perImage, scratchFloats(plan))
  }

  /// Runs layer `i` (planned as `p`) on `images` images: reads its input slot, writes its
  /// output slot. `slot(index, images, elementsPerImage)` views one activation slot.
  func runLayer(
    _ i: Int, _ p: PlannedLayer, images n: Int,
    slot: (Int, Int, Int) -> UnsafeMutableBufferPointer<Float>,
    weights: UnsafeBufferPointer<Float>, scratch: UnsafeMutableBufferPointer<Float>
  ) {
    let layer = architecture.layers[i]
    let inCount = p.inHeight * p.inWidth * p.inChannels
    let outCount = p.outHeight * p.outWidth * layer.outChannels
    let source = UnsafeBufferPointer(slot(layer.input, n, inCount))
    let destination = slot(layer.output, n, outCount)
    switch layer.operation {
    case .conv(let conv):
      let shape = convShape(layer, p, batch: n)!
      let ranges = parameterRanges[i]!
      conv2dForwardInference(
        destination, source, packedKernel: UnsafeBufferPointer(rebasing: weights[ranges.kernel]),
        bias: UnsafeBufferPointer(rebasing: weights[ranges.bias]), shape: shape,
        residual: conv.residual.map { UnsafeBufferPointer(slot($0, n, outCount)) },
        activation: conv.relu ? .relu : .identity, method: method(shape), scratch: scratch)
    case .maxPool:
      let window = Window2D(
        height: p.window, width: p.window, strideHeight: p.stride, strideWidth: p.stride,
        padding: p.padding)
      // ZeroPadding2D pads with zeros, so the pad value is 0.
      maxPool2dForward(
        destination, source, batch: n, height: p.inHeight, width: p.inWidth, channels: p.inChannels,
        window: window, padValue: 0)
    }
  }

  /// Takes the cached workspace if it is free and large enough, else allocates one.
  private func borrowWorkspace(capacity: Int) -> UnsafeMutableBufferPointer<Float> {
    workspaceLock.lock()
    let cached = cachedWorkspace
    cachedWorkspace = nil
    workspaceLock.unlock()
    if let cached, cached.count >= capacity { return cached }
    cached?.deallocate()
    return UnsafeMutableBufferPointer<Float>.allocate(capacity: capacity)
  }

  /// Caches `workspace` for the next call, keeping the larger one if another call already did.
  private func returnWorkspace(_ workspace: UnsafeMutableBufferPointer<Float>) {
    workspaceLock.lock()
    let spare: UnsafeMutableBufferPointer<Float>?
    if let cached = cachedWorkspace, cached.count >= workspace.count {
      spare = workspace
    } else {
      spare = cachedWorkspace
      cachedWorkspace = workspace
    }
    workspaceLock.unlock()
    spare?.deallocate()
  }

  deinit { cachedWorkspace?.deallocate() }

  /// How the convolution of `shape` runs: Winograd for 3x3 stride-1 windows (unless switched
  /// off), except on fewer than 8 input channels (VGG's first layer on the 3 colour channels),
  /// where the transforms cost more than the products they save; im2col + GEMM otherwise.
  func method(_ shape: ConvShape) -> ConvolutionMethod {
    Self.method(shape, winograd: winograd, largeTiles: largeWinogradTiles)
  }

  /// A shape with `conv`'s window and channels: all that packing its kernel depends on.
  static func packingShape(_ conv: ConvLayer) -> ConvShape {
    let window = Window2D(
      height: conv.kernelSize, width: conv.kernelSize, strideHeight: conv.stride, strideWidth: conv.stride)
    return ConvShape(
      batch: 1, height: conv.kernelSize, width: conv.kernelSize, inChannels: conv.inChannels,
      outChannels: conv.outChannels, window: window)
  }

  /// Activation floats one slot may hold (64 MB): a pass holds fewer images than
  /// `imagesPerPass` when one image's largest activation is big (VGG at 224x224: 12.8 MB per
  /// image, so passes of 5 rather than 16: `extract` peaks at 462 instead of 714 MiB). The price,
  /// measured on VGG16 over 64 photos, two alternating runs each: 5.69 / 6.49 s against 5.66 /
  /// 5.22 s with passes of 16, up to ~10 % (later layers get fewer rows per product).
  static let slotBudget = 16 << 20

  /// Images per forward pass for `count` images whose largest activation is `perImage` floats.
  func passImages(count: Int, perImage: Int) -> Int {
    max(1, min(count, imagesPerPass, max(4, Self.slotBudget / max(1, perImage))))
  }

  static func method(_ shape: ConvShape, winograd: Bool, largeTiles: Bool) -> ConvolutionMethod {
    guard winograd && winogradApplies(shape) && shape.inChannels >= 8 else { return .gemm }
    return largeTiles ? .winograd4x4 : .winograd2x2
  }

  func convShape(_ layer: Layer, _ p: PlannedLayer, batch: Int) -> ConvShape? {
    guard case .conv(let conv) = layer.operation else { return nil }
    let window = Window2D(
      height: p.window, width: p.window, strideHeight: p.stride, strideWidth: p.stride, padding: p.padding)
    return ConvShape(
      batch: batch, height: p.inHeight, width: p.inWidth, inChannels: conv.inChannels,
      outChannels: conv.outChannels,
      window: window)
  }
}

extension BackboneKind {
  /// Checks `weights` strictly against `parameterSpecs(for: self)` (every array present with its
  /// Keras shape; errors name the layer, role and both shapes) and reports the stored layers and
  /// arrays the backbone does not use, such as the ImageNet classifier.
  @discardableResult
  public func validateWeights(_ weights: KerasWeights) throws -> WeightBindingReport {
    try bindWeights(weights, to: parameterSpecs(for: self)).report
  }
}
