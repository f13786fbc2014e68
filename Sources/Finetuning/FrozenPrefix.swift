// The frozen part of the backbone: everything before the trained block, run with the existing
// (batch-norm-folded, Winograd) forward pass. Its output is the same every epoch unless the
// pixels are augmented, so a caller can compute it once and cache it.
import Backbones

extension ResNet50LastStage {
  /// The stage input conv4_block6_out (N, H/16, W/16, 1024) NHWC of `count` images
  /// (N, H, W, 3), 'caffe'-preprocessed BGR, through `backbone` (which must be a ResNet50).
  public static func blockInput(
    _ backbone: Backbone, images: UnsafeBufferPointer<Float>, count: Int, height: Int, width: Int
  ) throws -> [Float] {
    guard backbone.kind == .resnet50 else { throw FinetuneError(.wrongBackbone(backbone.kind, expected: [.resnet50])) }
    return try backbone.activations(images, count: count, height: height, width: width, layer: inputLayer)
  }

  /// The (height, width) of the stage input for images of height x width, by Keras' arithmetic.
  public static func blockInputSize(height: Int, width: Int) throws -> (height: Int, width: Int) {
    let shape = try BackboneKind.resnet50.outputShape(ofTap: inputLayer, height: height, width: width)
    return (shape.height, shape.width)
  }
}
