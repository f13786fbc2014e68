// What the two trained blocks (ResNet50's conv5 stage, a VGG's block5) share, written once: the
// heads with their gradients, one optimiser per trainable array plus one over the heads, the
// buffers of each batch size, the checks on a batch of block inputs, the forward-only loss, the
// heads' side of a backward pass, and the optimiser step over the block's table of trainable
// arrays. Each trainer keeps only what differs: its block's arrays, their forward and backward
// passes, and the table (which arrays, in which order, and whether each trains).
import Heads

/// One trainable array of a block, as the optimiser step sees it: whether it trains, and how to
/// update it in place with its optimiser and its gradient (the trainer's closure reaches its own
/// array and gradient).
struct TrainableArray {
  var trains: Bool
  var update: (inout Optimizer) -> Void
}

final class TrainerCore<Workspace: AnyObject> {
  var heads: MultiHeadModel
  /// The heads' gradients from the last backward pass.
  var headGradients: [Float]
  var optimizers: TrainerOptimizers
  /// The heads' input row: the block's output tap and any fixed taps before the block.
  let row: FeatureRow
  /// Floats in one image's block input (height x width x channels).
  private let inputFloats: Int
  private let makeWorkspace: (_ count: Int) -> Workspace
  private var workspaces: [Int: Workspace] = [:]

  /// `arrayCounts`: the element count of each trainable array of the block, in table order;
  /// `row`: the heads' input row (nil: the block's output alone).
  init(
    heads: MultiHeadModel, blockChannels: Int, row: FeatureRow?, optimizer: OptimizerKind, weightDecay: Double?,
    arrayCounts: [Int], inputFloats: Int, makeWorkspace: @escaping (_ count: Int) -> Workspace
  ) throws {
    let row = row ?? .blockOnly(channels: blockChannels)
    guard heads.inputWidth == row.width, row.blockColumns.count == blockChannels else {
      throw FinetuneError(
        .headsWidth(expected: row.width - row.blockColumns.count + blockChannels, found: heads.inputWidth))
    }
    self.row = row
    self.heads = heads
    headGradients = [Float](repeating: 0, count: heads.parameters.count)
    optimizers = TrainerOptimizers(
      optimizer, weightDecay: weightDecay, arrayCounts: arrayCounts, headParameters: heads.parameters.count)
    self.inputFloats = inputFloats
    self.makeWorkspace = makeWorkspace
  }

  /// The buffers for `count` block inputs, after checking the batch holds exactly that many,
  /// and their fixed features (count, row.fixedWidth).
  func workspace(blockInput: UnsafeBufferPointer<Float>, fixed: UnsafeBufferPointer<Float>, count: Int) throws
    -> Workspace
  {
    let expected = count * inputFloats
    guard blockInput.count == expected, count > 0 else {
      throw FinetuneError(.blockInput(expected: expected, found: blockInput.count))
    }
    guard fixed.count == count * row.fixedWidth else {
      throw FinetuneError(.fixedFeatures(expected: count * row.fixedWidth, found: fixed.count))
    }
    if let work = workspaces[count] { return work }
    let work = makeWorkspace(count)
    workspaces[count] = work
    return work
  }

  /// The heads' losses on `top`'s features (after the block's forward pass), nothing kept.
  func loss(_ top: PooledHeads, targets: [HeadTargets]) -> HeadLosses {
    var scratch = [Float](repeating: 0, count: heads.parameters.count)
    return scratch.withUnsafeMutableBufferPointer { g in
      top.lossAndBackward(heads: heads, targets: targets, headGradients: g, dOutput: nil)
    }
  }

  /// The heads' losses and gradients (into `headGradients`, zeroed first) and the gradient at
  /// the block's output (overwriting `dOutput`).
  func headsBackward(_ top: PooledHeads, targets: [HeadTargets], dOutput: UnsafeMutableBufferPointer<Float>)
    -> HeadLosses
  {
    headGradients.withUnsafeMutableBufferPointer { g in
      g.update(repeating: 0)
      return top.lossAndBackward(heads: heads, targets: targets, headGradients: g, dOutput: dOutput)
    }
  }

  /// One optimiser step of every array of `table` that trains (the i-th entry with the i-th
  /// optimiser), then of the heads.
  func step(_ table: [TrainableArray]) {
    precondition(table.count == optimizers.arrays.count, "one optimiser per trainable array")
    for (i, array) in table.enumerated() where array.trains { array.update(&optimizers.arrays[i]) }
    optimizers.heads.step(&heads.parameters, gradients: headGradients)
  }
}
