// VGG16 and VGG19, as keras.applications.vgg16 / vgg19 build them (include_top=False), from
// one table.
//
// Karen Simonyan, Andrew Zisserman: "Very Deep Convolutional Networks for Large-Scale Image
// Recognition", ICLR 2015 (arXiv:1409.1556). Five blocks of 3x3 'same' convolutions with
// bias and ReLU (`block{b}_conv{i}`), each block closed by a 2x2/2 'valid' max pool
// (`block{b}_pool`, flooring odd sizes). Configuration D (VGG16) has [2, 2, 3, 3, 3] convs
// per block, configuration E (VGG19) [2, 2, 4, 4, 4].

enum VGGTable {
  static let filters = [64, 128, 256, 512, 512]
  static let vgg16 = [2, 2, 3, 3, 3]
  static let vgg19 = [2, 2, 4, 4, 4]

  static let vgg16Architecture = architecture(convsPerBlock: vgg16)
  static let vgg19Architecture = architecture(convsPerBlock: vgg19)

  /// Two slots, used in turn: every layer reads one and writes the other.
  static func architecture(convsPerBlock: [Int]) -> Architecture {
    var layers: [Layer] = []
    var slot = 0
    var channels = 3
    for (index, (convs, width)) in zip(convsPerBlock, filters).enumerated() {
      let block = "block\(index + 1)"
      for i in 1...convs {
        let conv = ConvLayer(
          name: "\(block)_conv\(i)", batchNorm: nil, kernelSize: 3, stride: 1, padding: .same,
          inChannels: channels, outChannels: width, relu: true, residual: nil)
        layers.append(
          Layer(
            operation: .conv(conv), input: slot, output: 1 - slot, outputName: conv.name, outChannels: width))
        slot = 1 - slot
        channels = width
      }
      layers.append(
        Layer(
          operation: .maxPool(PoolLayer(size: 2, stride: 2, padding: .valid)), input: slot, output: 1 - slot,
          outputName: "\(block)_pool", outChannels: width))
      slot = 1 - slot
    }
    return Architecture(layers: layers, slotCount: 2)
  }
}
