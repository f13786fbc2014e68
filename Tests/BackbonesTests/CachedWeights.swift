import Backbones

/// Seed-0 synthetic weights, generated once per test run (tens of millions of values are
/// slow to make in a debug build).
enum CachedWeights {
  static let resnet50 = SyntheticWeights.make(.resnet50, seed: 0)
  static let vgg16 = SyntheticWeights.make(.vgg16, seed: 0)
  static let vgg19 = SyntheticWeights.make(.vgg19, seed: 0)

  static func of(_ kind: BackboneKind) -> KerasWeights {
    switch kind {
    case .resnet50: return resnet50
    case .vgg16: return vgg16
    case .vgg19: return vgg19
    }
  }
}
