// Keras' 'caffe' preprocessing (keras.applications.imagenet_utils.preprocess_input,
// mode='caffe', used by ResNet50 and VGG16/19): RGB -> BGR, then subtract the ImageNet
// channel means, no scaling. Input (H, W, 3) uint8 RGB; output (H, W, 3) float32 BGR.

/// ImageNet means in B, G, R order, as Keras writes them.
public let caffeMeanBGR: (Float, Float, Float) = (103.939, 116.779, 123.68)

/// Writes the 'caffe' preprocessed image into `out` (at least H * W * 3 floats), so a batch
/// buffer (N, H, W, 3) can be filled in place one image slice at a time. Each value is
/// Float(byte) - Float(mean), matching Keras' float32 arithmetic exactly.
public func caffePreprocess(_ image: RGBImage, into out: UnsafeMutableBufferPointer<Float>) {
  let count = image.width * image.height * 3
  precondition(out.count >= count, "caffePreprocess: \(out.count) floats for \(count / 3) pixels")
  image.pixels.withUnsafeBufferPointer { src in
    for i in 0..<count { out[i] = Float(src[i]) }
  }
  caffePreprocessInPlace(UnsafeMutableBufferPointer(rebasing: out[..<count]))
}

/// Keras' 'caffe' preprocess_input on float RGB (H, W, 3), in place: BGR order, then each
/// channel's ImageNet mean subtracted in float32, as numpy does on a float32 array. The one
/// place the rule is written: decoded bytes (`caffePreprocess`) and augmented floats
/// (finetune) both go through it.
public func caffePreprocessInPlace(_ image: UnsafeMutableBufferPointer<Float>) {
  let (meanB, meanG, meanR) = caffeMeanBGR
  for p in stride(from: 0, to: image.count, by: 3) {
    let red = image[p]
    image[p] = image[p + 2] - meanB
    image[p + 1] -= meanG
    image[p + 2] = red - meanR
  }
}
