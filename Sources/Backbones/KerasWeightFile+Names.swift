// Names in Keras weight files: which role an array plays, and today's name of a layer.
//
// Roles come from the weight name when it says one, in any generation:
//   Keras 1  `block1_conv1_W_1:0`, `bn_conv1_gamma_1:0`, ..., `bn_conv1_running_std_1:0`
//   Keras 2  `conv1_conv/kernel:0`        Keras 3 legacy  `conv1_conv/kernel`
// Keras 1's `running_std` holds the moving VARIANCE despite its name: Keras 1.x's
// BatchNormalization updated it with the variance returned by
// `K.normalize_batch_in_training` and passed it as the variance to `K.batch_normalization`;
// Keras 2 renamed it `moving_variance` and loads Keras 1 files without converting it.
// When a name says nothing (Keras 3 native files, odd exports), Keras' creation order is used.

/// The role named by a stored array's name, or nil when the name does not say.
func weightKind(fromWeightName name: String) -> WeightKind? {
  var base = Substring(name.split(separator: "/").last ?? Substring(name))
  if let colon = base.lastIndex(of: ":"), base[base.index(after: colon)...].allSatisfy(\.isNumber) {
    base = base[..<colon]
  }
  if let kind = WeightKind(rawValue: String(base)) { return kind }
  if let kind = kindFromSuffix(base) { return kind }
  // Keras 1 under TensorFlow appended a uniquifying "_1" to variable names.
  if let underscore = base.lastIndex(of: "_"),
    !base[base.index(after: underscore)...].isEmpty,
    base[base.index(after: underscore)...].allSatisfy(\.isNumber)
  {
    return kindFromSuffix(base[..<underscore])
  }
  return nil
}

private let suffixKinds: [(String, WeightKind)] = [
  ("_W", .kernel), ("_kernel", .kernel), ("_b", .bias), ("_bias", .bias),
  ("_gamma", .gamma), ("_beta", .beta),
  ("_running_mean", .movingMean), ("_moving_mean", .movingMean),
  ("_running_std", .movingVariance), ("_moving_variance", .movingVariance),
]

private func kindFromSuffix(_ base: Substring) -> WeightKind? {
  suffixKinds.first { base.hasSuffix($0.0) }?.1
}

/// Keras' creation order of a layer's arrays, used when their names do not say their roles:
/// convolution and dense layers create kernel then bias; batch normalisation creates gamma,
/// beta, moving mean, moving variance (four vectors of one length).
func kindsByKerasOrder(shapes: [[Int]]) -> [WeightKind]? {
  switch shapes.count {
  case 1 where shapes[0].count >= 2: return [.kernel]
  case 2 where shapes[0].count >= 2 && shapes[1].count == 1: return [.kernel, .bias]
  case 4 where shapes.allSatisfy({ $0.count == 1 && $0 == shapes[0] }):
    return [.gamma, .beta, .movingMean, .movingVariance]
  default: return nil
  }
}

/// Today's Keras name of a layer named as in the original ResNet50 release (Keras 1/early 2):
/// `conv1` -> `conv1_conv`, `bn_conv1` -> `conv1_bn`, `res2a_branch2a` ->
/// `conv2_block1_1_conv`, `bn2a_branch1` -> `conv2_block1_0_bn` (block letters a-f are
/// blocks 1-6, branch 2a/2b/2c are convolutions 1/2/3, branch 1 is the shortcut, 0). Other
/// names are returned unchanged.
public func currentKerasLayerName(_ name: String) -> String {
  if name == "conv1" { return "conv1_conv" }
  if name == "bn_conv1" { return "conv1_bn" }
  let (prefix, suffix): (String, String)
  if name.hasPrefix("res") {
    (prefix, suffix) = ("res", "conv")
  } else if name.hasPrefix("bn") {
    (prefix, suffix) = ("bn", "bn")
  } else {
    return name
  }
  // <prefix><stage 2-5><block a-f>_branch<2a|2b|2c|1>
  let rest = Array(name.dropFirst(prefix.count))
  guard rest.count >= 10, let stage = rest[0].wholeNumberValue, (2...5).contains(stage),
    let block = "abcdef".firstIndex(of: rest[1]), String(rest[2..<9]) == "_branch"
  else { return name }
  let convIndex: Int
  switch String(rest[9...]) {
  case "2a": convIndex = 1
  case "2b": convIndex = 2
  case "2c": convIndex = 3
  case "1": convIndex = 0
  default: return name
  }
  let blockNumber = "abcdef".distance(from: "abcdef".startIndex, to: block) + 1
  return "conv\(stage)_block\(blockNumber)_\(convIndex)_\(suffix)"
}
