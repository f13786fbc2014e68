// Which layers of the last block train: `--unfreeze` names Keras layers or blocks the way a
// Keras user would set `layer.trainable = True` on them. Everything before the last block stays
// frozen in this version (its output is the cached block input), so names there are refused
// with the reason rather than silently ignored.
import Backbones

extension LastBlock {
  /// The layers of `kind`'s last block (Keras names, weight-holding layers only) that `names`
  /// unfreeze: `last` (the whole block), a layer name (`conv5_block3_2_conv`, `block5_conv3`),
  /// or a block or stage name that prefixes layer names (`conv5_block3`, `conv5`, `block5`).
  /// A name that matches no layer of the backbone, only layers before the last block, or a
  /// layer without weights is an error that says which.
  public static func unfrozenLayers(_ kind: BackboneKind, names: [String]) throws(FinetuneError) -> Set<String> {
    let block = layerNames(kind)
    guard !names.isEmpty else { throw FinetuneError(.unfreeze(name: "", problem: .empty)) }
    var chosen = Set<String>()
    for name in names {
      if name == "last" {
        chosen.formUnion(block)
        continue
      }
      let matches = block.filter { $0 == name || $0.hasPrefix(name + "_") }
      if !matches.isEmpty {
        chosen.formUnion(matches)
        continue
      }
      let everyLayer = kind.kerasLayers.map(\.name)
      let named = everyLayer.filter { $0 == name || $0.hasPrefix(name + "_") }
      guard !named.isEmpty else {
        throw FinetuneError(.unfreeze(name: name, problem: .noLayer(kind, examples: examples(kind))))
      }
      // Keras names a weightless layer of the block (conv5_block1_out, block5_pool) too.
      let blockStart = block.compactMap { everyLayer.firstIndex(of: $0) }.min() ?? everyLayer.count
      let inBlock = named.contains { (everyLayer.firstIndex(of: $0) ?? 0) >= blockStart }
      throw FinetuneError(
        .unfreeze(name: name, problem: inBlock ? .noWeights : .beforeLastBlock(kind, examples: examples(kind))))
    }
    return chosen
  }

  /// The names `unfrozenLayers` accepts for `kind`, shortest first, for messages and help.
  static func examples(_ kind: BackboneKind) -> String {
    kind == .resnet50
      ? "last, conv5, conv5_block1..conv5_block3, or a layer such as conv5_block3_2_conv"
      : "last, block5, or a layer such as \(layerNames(kind).last ?? "block5_conv3")"
  }
}
