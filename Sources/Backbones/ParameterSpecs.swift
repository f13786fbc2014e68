// What each backbone needs from a weights file, in Keras' names and layouts.

/// Every parameter array the backbone needs, with Keras layer names and Keras shapes, in
/// model order: per convolution its `kernel` (kh, kw, in, out) and `bias` (out), then for a
/// following BatchNormalization its `gamma`, `beta`, `moving_mean`, `moving_variance` (out).
/// ResNet50 has 318 arrays (53 convolutions, 53 batch norms), VGG16 26, VGG19 32.
public func parameterSpecs(for kind: BackboneKind) -> [ParameterSpec] {
  var specs: [ParameterSpec] = []
  for conv in kind.architecture.convLayers {
    let out = conv.outChannels
    specs.append(
      ParameterSpec(
        layer: conv.name, kind: .kernel, shape: [conv.kernelSize, conv.kernelSize, conv.inChannels, out]))
    specs.append(ParameterSpec(layer: conv.name, kind: .bias, shape: [out]))
    if let bn = conv.batchNorm {
      for role in [WeightKind.gamma, .beta, .movingMean, .movingVariance] {
        specs.append(ParameterSpec(layer: bn, kind: role, shape: [out]))
      }
    }
  }
  return specs
}
