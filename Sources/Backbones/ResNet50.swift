// ResNet50 v1, as keras.applications.resnet.ResNet50 builds it (include_top=False).
//
// Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun: "Deep Residual Learning for Image
// Recognition", CVPR 2016 (arXiv:1512.03385). Keras' v1 variant puts the stride on the first
// 1x1 convolution of a stage (not on the 3x3), gives every convolution a bias, and uses
// BatchNormalization(epsilon=1.001e-5).
//
//   conv1_pad   ZeroPadding2D(3)
//   conv1_conv  7x7/2 'valid', 64      conv1_bn, conv1_relu
//   pool1_pad   ZeroPadding2D(1)
//   pool1_pool  MaxPooling2D 3x3/2 'valid'
//   conv{2..5}: [3, 4, 6, 3] bottleneck blocks of filters [64, 128, 256, 512], 4x wide out;
//     block:  _0_conv 1x1/stride + _0_bn        (first block of a stage only: the shortcut)
//             _1_conv 1x1/stride + _1_bn + _1_relu
//             _2_conv 3x3 'same' + _2_bn + _2_relu
//             _3_conv 1x1        + _3_bn,  _add(shortcut, x), _out ReLU
//     stride 1 for conv2, 2 for conv3..conv5.

enum ResNet50Table {
  /// (Keras stack name, bottleneck filters, blocks, stride of the first block).
  static let stages: [(name: String, filters: Int, blocks: Int, stride: Int)] = [
    ("conv2", 64, 3, 1),
    ("conv3", 128, 4, 2),
    ("conv4", 256, 6, 2),
    ("conv5", 512, 3, 2),
  ]
  static let batchNormEpsilon = 1.001e-5

  /// Four slots: the block input, two bottleneck activations and the shortcut. A block's
  /// output overwrites its first bottleneck slot, which becomes the next block's input.
  static let architecture: Architecture = {
    var layers: [Layer] = []
    func conv(
      _ name: String, bn: String, k: Int, stride: Int, padding: PaddingRule, in cin: Int, out cout: Int,
      relu: Bool, residual: Int? = nil, from input: Int, to output: Int, outputName: String
    ) {
      let c = ConvLayer(
        name: name, batchNorm: bn, kernelSize: k, stride: stride, padding: padding, inChannels: cin,
        outChannels: cout, relu: relu, residual: residual)
      layers.append(
        Layer(operation: .conv(c), input: input, output: output, outputName: outputName, outChannels: cout))
    }
    conv(
      "conv1_conv", bn: "conv1_bn", k: 7, stride: 2, padding: .zeros(3), in: 3, out: 64, relu: true,
      from: 0, to: 1, outputName: "conv1_relu")
    layers.append(
      Layer(
        operation: .maxPool(PoolLayer(size: 3, stride: 2, padding: .zeros(1))), input: 1, output: 0,
        outputName: "pool1_pool", outChannels: 64))

    var current = 0
    var channels = 64
    for stage in stages {
      for block in 1...stage.blocks {
        let name = "\(stage.name)_block\(block)"
        let others = (0..<4).filter { $0 != current }
        let (a, b, s) = (others[0], others[1], others[2])
        let stride = block == 1 ? stage.stride : 1
        let wide = 4 * stage.filters
        var shortcut = current
        if block == 1 {
          conv(
            "\(name)_0_conv", bn: "\(name)_0_bn", k: 1, stride: stride, padding: .valid, in: channels,
            out: wide,
            relu: false, from: current, to: s, outputName: "\(name)_0_bn")
          shortcut = s
        }
        conv(
          "\(name)_1_conv", bn: "\(name)_1_bn", k: 1, stride: stride, padding: .valid, in: channels,
          out: stage.filters, relu: true, from: current, to: a, outputName: "\(name)_1_relu")
        conv(
          "\(name)_2_conv", bn: "\(name)_2_bn", k: 3, stride: 1, padding: .same, in: stage.filters,
          out: stage.filters, relu: true, from: a, to: b, outputName: "\(name)_2_relu")
        conv(
          "\(name)_3_conv", bn: "\(name)_3_bn", k: 1, stride: 1, padding: .valid, in: stage.filters,
          out: wide,
          relu: true, residual: shortcut, from: b, to: a, outputName: "\(name)_out")
        current = a
        channels = wide
      }
    }
    return Architecture(layers: layers, slotCount: 4)
  }()
}
