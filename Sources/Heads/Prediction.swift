// Forward only: what each head predicts for a set of rows, for validation and for `predict`.
// Features (N, D) row-major; each head's output (N, outputs) row-major.

import Engine

extension MultiHeadModel {
  /// Every head's activated output for every row of `features` (N, inputWidth): tanh values in
  /// [-1, 1], softmax probabilities, sigmoid probabilities, and for an embedding head (N, 1) the
  /// index of the nearest class vector (as a Float); in head order.
  public func predict(features: [Float]) -> [[Float]] {
    precondition(features.count % inputWidth == 0)
    let rows = features.count / inputWidth
    return features.withUnsafeBufferPointer { x in
      parameters.withUnsafeBufferPointer { params in
        specs.indices.map { h in
          var input: [Float] = []  // the previous layer's output; the first layer reads x itself
          for (l, slot) in slots[h].enumerated() {
            var output = [Float](repeating: 0, count: rows * slot.outputs)
            input.withUnsafeBufferPointer { previous in
              let inputBuffer = l == 0 ? x : previous
              output.withUnsafeMutableBufferPointer { y in
                denseForward(
                  y, inputBuffer, weight: UnsafeBufferPointer(rebasing: params[slot.kernel]),
                  bias: UnsafeBufferPointer(rebasing: params[slot.bias]), batch: rows,
                  inFeatures: slot.inputs,
                  outFeatures: slot.outputs)
                let logits = UnsafeBufferPointer(y)
                if l < slots[h].count - 1 {
                  reluForward(y, logits)
                } else {
                  switch specs[h].kind {
                  case .tanh: tanhForward(y, logits)
                  case .softmax: softmaxForward(y, logits, rows: rows, width: slot.outputs)
                  case .sigmoid: sigmoidForward(y, logits)
                  case .embedding: break  // the vectors; mapped to class indices below
                  }
                }
              }
            }
            input = output
          }
          guard specs[h].kind == .embedding else { return input }
          return input.withUnsafeBufferPointer { vectors in
            nearestClass(
              predictions: vectors, classVectors: UnsafeBufferPointer(rebasing: params[classVectorSlots[h]]),
              batch: rows, classes: specs[h].wheelClasses.count, dimensions: specs[h].dimensions
            ).map { Float($0) }
          }
        }
      }
    }
  }
}
