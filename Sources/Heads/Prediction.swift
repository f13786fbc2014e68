// Forward only: what each head predicts for a set of rows, for validation and for `predict`.
// Features (N, D) row-major; each head's output (N, outputs) row-major.
//
// Every head's first layer runs as one product, as in training (FusedLayout.swift): the first
// layers' kernels side by side, W (D, T), and Z (N, T) = x W + b from the rows in
// place (Engine/DenseRows.swift), the rows split between the cores. One sgemm per head instead
// packed the (2048, D) block of rows again for every head: most of the time fit-heads spent
// predicting its validation rows.

import Dispatch
import Engine

extension MultiHeadModel {
  /// Every head's activated output for every row of `features` (N, inputWidth): tanh values in
  /// [-1, 1], softmax probabilities, sigmoid probabilities, and for an embedding head (N, 1) the
  /// index of the nearest class vector (as a Float); in head order.
  public func predict(features: [Float]) -> [[Float]] {
    precondition(features.count % inputWidth == 0)
    return features.withUnsafeBufferPointer { x in
      predict(rows: (0..<(features.count / inputWidth)).map { x.baseAddress! + $0 * inputWidth })
    }
  }

  /// The same for rows wherever they are: `rows[i]` points to row i's inputWidth features.
  public func predict(rows pointers: [UnsafePointer<Float>]) -> [[Float]] {
    let rows = pointers.count
    let d = inputWidth
    // The first layers' columns of Z, head after head, and W, b.
    var columns: [Range<Int>] = []
    for h in specs.indices {
      let start = columns.last?.upperBound ?? 0
      columns.append(start..<(start + slots[h][0].outputs))
    }
    let t = columns.last?.upperBound ?? 0
    var weight = [Float](repeating: 0, count: d * t)
    var bias = [Float](repeating: 0, count: t)
    for h in specs.indices {
      let slot = slots[h][0]
      for i in 0..<d {
        for u in 0..<slot.outputs {
          weight[i * t + columns[h].lowerBound + u] = parameters[slot.kernel.lowerBound + i * slot.outputs + u]
        }
      }
      for u in 0..<slot.outputs { bias[columns[h].lowerBound + u] = parameters[slot.bias.lowerBound + u] }
    }
    var z = [Float](repeating: 0, count: rows * t)
    pointers.withUnsafeBufferPointer { x in
      weight.withUnsafeBufferPointer { w in
        bias.withUnsafeBufferPointer { b in
          z.withUnsafeMutableBufferPointer { z in
            let shared = PredictionBuffers(x: x, w: w, b: b, z: z)
            let parts = max(1, min(computeThreads(), rows / 256))
            DispatchQueue.concurrentPerform(iterations: parts) { part in
              let range = (rows * part / parts)..<(rows * (part + 1) / parts)
              guard !range.isEmpty else { return }
              denseForwardRows(
                UnsafeMutableBufferPointer(rebasing: shared.z[(range.lowerBound * t)...]), ldz: t,
                rows: UnsafeBufferPointer(rebasing: shared.x[range]), weight: shared.w, bias: shared.b,
                batch: range.count, inputs: d, outputs: t)
            }
          }
        }
      }
    }
    return parameters.withUnsafeBufferPointer { params in
      specs.indices.map { h in
        // The first layer's output, from Z; then the later layers.
        let width = columns[h].count
        var input = [Float](repeating: 0, count: rows * width)
        for r in 0..<rows {
          for j in 0..<width { input[r * width + j] = z[r * t + columns[h].lowerBound + j] }
        }
        for (l, slot) in slots[h].enumerated() {
          if l > 0 {
            var output = [Float](repeating: 0, count: rows * slot.outputs)
            input.withUnsafeBufferPointer { previous in
              output.withUnsafeMutableBufferPointer { y in
                denseForward(
                  y, previous, weight: UnsafeBufferPointer(rebasing: params[slot.kernel]),
                  bias: UnsafeBufferPointer(rebasing: params[slot.bias]), batch: rows, inFeatures: slot.inputs,
                  outFeatures: slot.outputs)
              }
            }
            input = output
          }
          input.withUnsafeMutableBufferPointer { y in
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

/// The buffers the prediction threads share; each writes only its own rows of z.
private struct PredictionBuffers: @unchecked Sendable {
  let x: UnsafeBufferPointer<UnsafePointer<Float>>
  let w: UnsafeBufferPointer<Float>
  let b: UnsafeBufferPointer<Float>
  let z: UnsafeMutableBufferPointer<Float>
}
