// A head too wide for one thread, split by first-layer units between two groups of heads.
//
// HeadsTrainer trains groups of heads on separate threads, which pays only while the groups are
// about equally wide: with a 64-unit hidden layer on one head and a handful of linear heads, the
// wide head's group did 2.5 times the work of the other while that one waited. The first layer
// is most of a head's work (the products with the (B, 2048) batch and the optimiser update of
// its 2048 x units kernel) and its units are independent columns, so they can be shared:
//
//   owner  (units 0 ..< k and the rest of the head)     helper  (units k ..< n, a slice)
//   Z_own = x W_own + b_own                             Z_slice = x W_slice + b_slice
//                                                       -> computed(block)
//   wait computed; H = [Z_own | Z_slice]
//   the head's later layers, its loss, backward to dH
//   dZ_own = dH[:, ..< k], helper's dZ_slice = dH[:, k ...]
//   -> consumed(block)                                   wait consumed
//   dW_own = x^T dZ_own, Adam                            dW_slice = x^T dZ_slice, Adam
//
// Every number is the one the unsplit head computes (each column of a product depends only on
// its own column of W and dZ; the later layers see the same H), so training arithmetic is
// unchanged up to the order in which the BLAS sums within a column (tested: SplitHeadTests).
// Each side counts the blocks it has done; the counters only grow during a run, so "wait
// until the other side has reached my count" needs no reset between blocks. The helper's next
// block overwrites its Z and dZ only after the owner has consumed the previous one, and the
// owner writes the helper's dZ only after the helper has computed (and so finished its
// previous backward pass).

import Engine

/// Where the owner and the helper of a split head meet; one per split head, shared by the two
/// groups' trainers. Each side touches only its own counter and its own fields.
final class SplitLink: @unchecked Sendable {
  /// The head's index in the model.
  let head: Int
  /// The first-layer units the helper holds (the owner holds the ones below).
  let remoteUnits: Range<Int>
  /// Blocks whose slice outputs the helper has computed.
  private let computed = StepSignal()
  /// Blocks the owner is done with: outputs read and, when training, gradients written.
  private let consumed = StepSignal()
  private var ownerBlocks = 0
  private var helperBlocks = 0
  /// The helper's workspace, fused width and the slice's columns in it.
  private var helper: (workspace: TrainingWorkspace, width: Int, columns: Range<Int>)?

  init(head: Int, remoteUnits: Range<Int>) {
    self.head = head
    self.remoteUnits = remoteUnits
  }

  /// Connects the helper's trainer, once it exists.
  func attach(helper trainer: FusedTrainer) {
    guard let slice = trainer.layout.slices.first(where: { $0.head == head }) else {
      preconditionFailure("the helper holds no slice of head \(head)")
    }
    precondition(slice.columns.count == remoteUnits.count)
    helper = (trainer.workspace, trainer.layout.fusedWidth, slice.columns)
  }

  /// Before a run: both sides start counting blocks from zero. Only while neither side runs.
  func reset() {
    computed.reset()
    consumed.reset()
    (ownerBlocks, helperBlocks) = (0, 0)
  }

  // The helper's side.

  /// The slice's outputs of the current block are in the helper's Z.
  func helperComputed() {
    helperBlocks += 1
    computed.raise(to: helperBlocks)
  }

  /// Waits until the owner is done with the current block.
  func helperWaitsForOwner() { consumed.wait(atLeast: helperBlocks) }

  // The owner's side.

  /// Waits until the helper has computed the owner's current block.
  func ownerWaitsForHelper() {
    ownerBlocks += 1
    computed.wait(atLeast: ownerBlocks)
  }

  /// The helper's Z (batch, width) of the current block and the slice's columns in it.
  func helperOutputs(batch: Int) -> (UnsafeBufferPointer<Float>, Int, Range<Int>) {
    let helper = self.helper!
    let z = helper.workspace.view(helper.workspace.z, batch * helper.width)
    return (UnsafeBufferPointer(z), helper.width, helper.columns)
  }

  /// The helper's dZ (batch, width) of the current block, and the slice's columns in it.
  func helperGradients(batch: Int) -> (UnsafeMutableBufferPointer<Float>, Int, Range<Int>) {
    let helper = self.helper!
    return (helper.workspace.view(helper.workspace.dz, batch * helper.width), helper.width, helper.columns)
  }

  /// The owner has read the slice's outputs and written their gradients (if training).
  func ownerConsumed() { consumed.raise(to: ownerBlocks) }
}
