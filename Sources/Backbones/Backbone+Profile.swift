// Where a forward pass spends its time, layer by layer: the table behind Docs/performance.md's
// per-layer figures and the first thing to look at before optimising anything.
import Engine
import Foundation

/// One layer's share of a forward pass.
public struct LayerTime: Sendable {
  /// The Keras layer name of the layer's output (`block1_conv1`, `conv2_block1_out`, `pool1_pool`).
  public var name: String
  /// The convolution method (`ConvolutionMethod`'s description) or "pool".
  public var method: String
  /// Seconds per image, the median of the repeats.
  public var seconds: Double
  /// Multiply-adds x 2 of the layer as a direct convolution, per image (0 for pooling).
  public var directFLOPs: Double
}

extension Backbone {
  /// Times every layer up to the last tap on `count` synthetic images of `height` x `width`,
  /// `repeats` times after one warm-up pass, and returns each layer's median seconds per image.
  public func layerTimes(count: Int, height: Int, width: Int, repeats: Int = 3) -> [LayerTime] {
    let plan = architecture.plan(height: height, width: width)
    let imageSize = height * width * 3
    let (pass, perImage, scratchCount) = workspaceSizes(plan, imageSize: imageSize, count: max(1, count))
    let slotStride = pass * perImage
    let workspace = UnsafeMutableBufferPointer<Float>.allocate(
      capacity: architecture.slotCount * slotStride + scratchCount)
    defer { workspace.deallocate() }
    workspace.initialize(repeating: 0)
    for i in 0..<(pass * imageSize) { workspace[i] = Float(i % 251) - 125 }
    let scratch = UnsafeMutableBufferPointer(rebasing: workspace[(architecture.slotCount * slotStride)...])
    func slot(_ i: Int, _ n: Int, _ elementsPerImage: Int) -> UnsafeMutableBufferPointer<Float> {
      UnsafeMutableBufferPointer(rebasing: workspace[(i * slotStride)..<(i * slotStride + n * elementsPerImage)])
    }
    var samples = [[Double]](repeating: [], count: plan.count)
    parameters.withUnsafeBufferPointer { weights in
      for round in 0...repeats {
        for (i, p) in plan.enumerated() {
          let start = DispatchTime.now().uptimeNanoseconds
          runLayer(i, p, images: pass, slot: slot, weights: weights, scratch: scratch)
          let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
          if round > 0 { samples[i].append(elapsed / Double(pass)) }
        }
      }
    }
    return plan.enumerated().map { i, p in
      let layer = architecture.layers[i]
      var method = "pool"
      var flops = 0.0
      if let shape = convShape(layer, p, batch: 1) {
        method = self.method(shape).description
        flops = 2 * Double(shape.outputHeight * shape.outputWidth) * Double(shape.patchSize * shape.outChannels)
      }
      let sorted = samples[i].sorted()
      return LayerTime(name: layer.outputName, method: method, seconds: sorted[sorted.count / 2], directFLOPs: flops)
    }
  }
}
