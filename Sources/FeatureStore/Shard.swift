// Shards: one extraction cut into N parts run anywhere (a Slurm array, a Kubernetes Indexed Job,
// a few hosts), each writing a feature file of its slice, merged into the file a single run would
// have written (Docs/scaling-out.md). The slicing rule and what a shard file records live here.

/// Shard `index` of `count`, as `--shard K/N` gives it.
public struct ShardSpec: Sendable, Equatable {
  public var index: Int
  public var count: Int

  public init(index: Int, count: Int) {
    precondition(count >= 1 && (0..<count).contains(index), "shard \(index)/\(count)")
    self.index = index
    self.count = count
  }

  /// "K/N" with 0 <= K < N; nil for anything else.
  public init?(parsing text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(k) else {
      return nil
    }
    self.init(index: k, count: n)
  }

  /// The rows of `total` this shard takes: N contiguous slices in order whose sizes differ by
  /// at most one (the first `total % N` one longer); empty when N exceeds `total`.
  public func rows(of total: Int) -> Range<Int> {
    let base = total / count
    let longer = total % count
    let start = index * base + min(index, longer)
    return start..<(start + base + (index < longer ? 1 : 0))
  }

  public var description: String { "\(index)/\(count)" }
}

/// What a shard's feature file records of the whole run, so `merge` can check every part
/// itself instead of trusting a scheduler: which shard, of how many, the whole dataset's size,
/// and fingerprints of the settings and of the full sorted path list with its labels.
public struct ShardInfo: Sendable, Equatable {
  public var spec: ShardSpec
  /// Images in the whole dataset (every shard's slice together, failed ones included).
  public var totalImages: Int
  /// SHA-256 of the settings that decide the features (not paths on one host).
  public var settingsSHA256: String
  /// SHA-256 of the whole dataset's sorted paths and labels.
  public var datasetSHA256: String

  public init(spec: ShardSpec, totalImages: Int, settingsSHA256: String, datasetSHA256: String) {
    self.spec = spec
    self.totalImages = totalImages
    self.settingsSHA256 = settingsSHA256
    self.datasetSHA256 = datasetSHA256
  }
}
