// Every layer of a backbone as Keras' `model.layers` lists it, with its class name: what
// `namingClassGroups(_:layers:)` needs to name the groups of early Keras 3 native files.
//
// Derived from the architecture tables, expanding each table layer into the Keras layers it
// stands for (checked against Keras 3.15.1 in Tests/Fixtures/weights/native_groups.json):
//   conv, BN, ReLU       ZeroPadding2D `<prefix>_pad` when padded by zeros, Conv2D, then
//                        BatchNormalization, then Activation named by the layer's output; a
//                        VGG conv carries its ReLU inside the Conv2D (output name = conv name)
//   residual conv        ... Conv2D, BatchNormalization, Add `<block>_add`, Activation `_out`
//   max pool             ZeroPadding2D `<prefix>_pad` when padded by zeros, MaxPooling2D
// The weightless layers are listed too: the native writer numbers groups per class over all of
// `model.layers` (`activation_3`, `add_1`, `max_pooling2d_2`), so they keep their own classes'
// numbering right even though they carry no arrays.
//
// Order: a Functional model lists its layers by decreasing distance from the output, ties in
// graph traversal order. In the first block of a ResNet stage, the shortcut's 1x1 conv
// (`_0_conv`) is as far from the block's Add as `_3_conv`, so Keras lists
// `_1_*, _2_*, _0_conv, _3_conv, _0_bn, _3_bn, _add, _out`, not the table's order.

extension BackboneKind {
  /// Every layer of the Keras model (`keras.applications`, include_top=False) in
  /// `model.layers` order, with its Keras class name, starting with the `InputLayer`. Feed it
  /// to `namingClassGroups(_:layers:)` to name the layers of a Keras 3 native file that lacks
  /// layer names.
  public var kerasLayers: [(name: String, className: String)] {
    var list: [(name: String, className: String)] = [("input_layer", "InputLayer")]
    let layers = architecture.layers
    var pendingShortcut: ConvLayer?
    for (index, layer) in layers.enumerated() {
      switch layer.operation {
      case .maxPool(let pool):
        if case .zeros = pool.padding { list.append((padName(layer.outputName), "ZeroPadding2D")) }
        list.append((layer.outputName, "MaxPooling2D"))
      case .conv(let conv):
        if isProjectionShortcut(index, in: layers) {
          // A projection shortcut: Keras lists it beside the block's last conv (see above).
          pendingShortcut = conv
          continue
        }
        if case .zeros = conv.padding { list.append((padName(conv.name), "ZeroPadding2D")) }
        if let shortcut = pendingShortcut, conv.residual != nil {
          list.append((shortcut.name, "Conv2D"))
          list.append((conv.name, "Conv2D"))
          if let bn = shortcut.batchNorm { list.append((bn, "BatchNormalization")) }
          pendingShortcut = nil
        } else {
          list.append((conv.name, "Conv2D"))
        }
        if let bn = conv.batchNorm { list.append((bn, "BatchNormalization")) }
        if conv.residual != nil {
          list.append((replacingSuffix(layer.outputName, "_out", with: "_add"), "Add"))
        }
        // A separate Activation exists when the output is not the conv or its BN itself.
        if layer.outputName != conv.name, layer.outputName != conv.batchNorm {
          list.append((layer.outputName, "Activation"))
        }
      }
    }
    return list
  }
}

/// Whether layer `index` computes a block's shortcut: the first later layer that touches its
/// output slot adds it as the residual.
private func isProjectionShortcut(_ index: Int, in layers: [Layer]) -> Bool {
  let slot = layers[index].output
  for later in layers[(index + 1)...] {
    var residual: Int?
    if case .conv(let c) = later.operation { residual = c.residual }
    if residual == slot { return true }
    if later.input == slot || later.output == slot { return false }
  }
  return false
}

/// `conv1_conv` / `pool1_pool` -> `conv1_pad` / `pool1_pad`: the ZeroPadding2D before them.
private func padName(_ name: String) -> String {
  guard let underscore = name.lastIndex(of: "_") else { return name + "_pad" }
  return name[..<underscore] + "_pad"
}

private func replacingSuffix(_ name: String, _ suffix: String, with replacement: String) -> String {
  name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) + replacement : name + replacement
}
