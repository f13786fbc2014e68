// Keras' 'caffe' preprocessing (keras.applications.imagenet_utils.preprocess_input,
// mode='caffe', used by ResNet50 and VGG16/19): RGB -> BGR, then subtract the ImageNet
// channel means, no scaling. Input (H, W, 3) uint8 RGB; output (H, W, 3) float32 BGR.

/// ImageNet means in B, G, R order, as Keras writes them.
public let caffeMeanBGR: (Float, Float, Float) = (103.939, 116.779, 123.68)

/// Writes the 'caffe' preprocessed image into `out` (at least H * W * 3 floats), so a batch
/// buffer (N, H, W, 3) can be filled in place one image slice at a time. Each value is
/// Float(byte) - Float(mean), matching Keras' float32 arithmetic exactly.
public func caffePreprocess(_ image: RGBImage, into out: UnsafeMutableBufferPointer<Float>) {
  let n = image.width * image.height
  precondition(out.count >= n * 3, "caffePreprocess: \(out.count) floats for \(n) pixels")
  let (meanB, meanG, meanR) = caffeMeanBGR
  image.pixels.withUnsafeBufferPointer { src in
    for i in 0..<n {
      out[3 * i] = Float(src[3 * i + 2]) - meanB
      out[3 * i + 1] = Float(src[3 * i + 1]) - meanG
      out[3 * i + 2] = Float(src[3 * i]) - meanR
    }
  }
}
