// The optimisers of a trained block and its heads: one per trainable array of the block (Keras
// keeps a state per variable) and one over the heads' flat parameters, the same kind and weight
// decay for all, their states listed as one array for checkpoints.
import Heads

struct TrainerOptimizers {
  /// One per trainable array, in the trainer's array order.
  var arrays: [Optimizer]
  var heads: Optimizer

  init(_ kind: OptimizerKind, weightDecay: Double?, arrayCounts: [Int], headParameters: Int) {
    arrays = arrayCounts.map { Optimizer(kind, parameterCount: $0, weightDecay: weightDecay) }
    heads = Optimizer(kind, parameterCount: headParameters, weightDecay: weightDecay)
  }

  /// Every state, the block's arrays' first and the heads' last. Setting needs as many states
  /// (a checkpoint of the same trainer).
  var states: [OptimizerState] {
    get { arrays.map(\.state) + [heads.state] }
    set {
      precondition(newValue.count == arrays.count + 1)
      for i in arrays.indices { arrays[i].state = newValue[i] }
      heads.state = newValue[arrays.count]
    }
  }
}
