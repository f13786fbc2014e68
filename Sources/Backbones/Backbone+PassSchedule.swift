// How many images a forward pass holds, layer by layer. Activation slots are capped at
// `slotBudget` floats, so a backbone whose first layers are large (VGG at 224x224: 12.8 MB per
// image in block1) runs few images at a time. Those early layers are cheap per image and their
// weights small; the late layers are the reverse (VGG's block5 reads 38 MB of Winograd weights
// per pass). So the pass splits in two: the early layers run few images at a time until the
// activations are small again, their output is gathered, and the late layers run many images
// at once. Results do not depend on it (each image's rows are computed alike in any batch).

extension Backbone {
  /// A run of consecutive layers and the images it holds at a time.
  struct PassSegment: Equatable {
    var layers: Range<Int>
    var images: Int
  }

  /// The segments of a forward pass over `plan` for `count` images: one, or two when the
  /// early layers' activations force fewer images per pass than the late layers need. The split
  /// comes after the first layer past the large activations whose output is small and is the
  /// only earlier result the later layers read (a ResNet block's output, any VGG layer).
  func passSegments(_ plan: [PlannedLayer], imageSize: Int, count: Int) -> [PassSegment] {
    let sizes = activationSizes(plan)
    let largest = max(imageSize, sizes.max() ?? 0)
    let whole = [PassSegment(layers: 0..<plan.count, images: passImages(count: count, perImage: largest))]
    let late = min(count, imagesPerPass)
    let small = Self.slotBudget / max(1, late)
    // The last layer whose output alone forces fewer than `late` images per pass.
    guard let large = sizes.lastIndex(where: { $0 > small }) ?? (imageSize > small ? -1 : nil) else { return whole }
    let candidates = (large + 1)..<plan.count
    guard let end = candidates.first(where: { sizes[$0] <= small && onlyOutputReadLater($0, through: plan.count) }),
      end + 1 < plan.count
    else { return whole }
    let early = passImages(count: count, perImage: max(imageSize, sizes[0...end].max()!))
    let rest = passImages(count: count, perImage: sizes[end...].max()!)  // its input included
    guard rest > early else { return whole }
    return [
      PassSegment(layers: 0..<(end + 1), images: early), PassSegment(layers: (end + 1)..<plan.count, images: rest),
    ]
  }

  /// Floats per image of each planned layer's output.
  func activationSizes(_ plan: [PlannedLayer]) -> [Int] {
    zip(architecture.layers, plan).map { layer, p in p.outHeight * p.outWidth * layer.outChannels }
  }

  /// Whether the layers after `end` (up to `through`) read nothing computed before it but
  /// `end`'s own output (their inputs and residuals come from `end` or from layers after it).
  func onlyOutputReadLater(_ end: Int, through: Int) -> Bool {
    let layers = architecture.layers
    var writer = [Int](repeating: -1, count: architecture.slotCount)  // slot 0: the images
    for i in 0...end { writer[layers[i].output] = i }
    for i in (end + 1)..<through {
      var reads = [layers[i].input]
      if case .conv(let conv) = layers[i].operation, let residual = conv.residual { reads.append(residual) }
      if reads.contains(where: { writer[$0] != end && writer[$0] <= end }) { return false }
      writer[layers[i].output] = i
    }
    return true
  }
}
