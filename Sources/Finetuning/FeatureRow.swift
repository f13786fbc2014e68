// What the heads read while the last block trains. A heads file may hold heads on several taps
// (each head on its own, HeadSpec.inputColumns); their input row is every tap the file records,
// side by side in its order, as `extract` stores them. Fine-tuning computes the trained block's
// output tap (block5_pool, conv5_block3_out) with the block's current weights; a tap before the
// block comes out of the frozen prefix, the same for an image whatever the block learns, so it
// is a fixed feature given with each batch (no gradient reaches the backbone through it, while
// the heads reading it still train). A tap inside the trained block is neither, and is refused.
import Backbones
import Heads

/// The heads' input row during fine-tuning: which columns the trained block computes and which
/// come fixed from the frozen prefix.
public struct FeatureRow: Sendable, Equatable {
  /// D: the row's width (the heads' input width).
  public var width: Int
  /// The columns of the trained block's output tap, pooled and L2-normalised.
  public var blockColumns: Range<Int>
  /// The taps before the trained block, in row order, and their columns.
  public var fixedTaps: [String]
  public var fixedColumns: [Range<Int>]

  /// Values per image of the fixed features (their taps' widths added up).
  public var fixedWidth: Int { fixedColumns.reduce(0) { $0 + $1.count } }

  public init(width: Int, blockColumns: Range<Int>, fixedTaps: [String], fixedColumns: [Range<Int>]) {
    (self.width, self.blockColumns, self.fixedTaps, self.fixedColumns) = (width, blockColumns, fixedTaps, fixedColumns)
  }

  /// A row of the block's output alone, `channels` wide (heads fitted on that tap only).
  public static func blockOnly(channels: Int) -> FeatureRow {
    FeatureRow(width: channels, blockColumns: 0..<channels, fixedTaps: [], fixedColumns: [])
  }

  /// The row of `taps` (presets resolved) of `widths` for fine-tuning `kind`'s last block: the
  /// block's output tap must be one of them, every other tap must come at or before the block's
  /// input layer.
  public init(_ kind: BackboneKind, taps: [String], widths: [Int]) throws {
    precondition(taps.count == widths.count, "one width per tap")
    let order = kind.allTapNames
    let output = LastBlock.outputLayer(kind)
    let prefixEnd = order.firstIndex(of: LastBlock.inputLayer(kind))!
    var offset = 0
    var block: Range<Int>?
    var fixedTaps: [String] = []
    var fixedColumns: [Range<Int>] = []
    for (tap, width) in zip(taps, widths) {
      let columns = offset..<(offset + width)
      offset += width
      if tap == output {
        block = columns
      } else if let index = order.firstIndex(of: tap), index <= prefixEnd {
        fixedTaps.append(tap)
        fixedColumns.append(columns)
      } else {
        throw FinetuneError(.tapInsideBlock(tap, kind: kind))
      }
    }
    guard let block else { throw FinetuneError(.noBlockTap(taps, kind: kind)) }
    self.init(width: offset, blockColumns: block, fixedTaps: fixedTaps, fixedColumns: fixedColumns)
  }

  /// The fixed taps `spec` reads when it reads nothing else; nil when it reads the block's
  /// output (all of the row, or columns of it): its input then trains with the block.
  public func fixedTaps(readBy spec: HeadSpec) -> [String]? {
    guard let columns = spec.inputColumns, !columns.contains(where: { $0.overlaps(blockColumns) }) else {
      return nil
    }
    return zip(fixedTaps, fixedColumns).filter { tap in columns.contains { $0.overlaps(tap.1) } }.map(\.0)
  }

  /// Writes the fixed features (N, fixedWidth) at their columns of `rows` (N, width).
  func scatterFixed(_ fixed: UnsafeBufferPointer<Float>, into rows: UnsafeMutableBufferPointer<Float>, count: Int) {
    let fixedWidth = fixedWidth
    guard fixedWidth > 0 else { return }
    for r in 0..<count {
      var from = fixed.baseAddress! + r * fixedWidth
      for columns in fixedColumns {
        (rows.baseAddress! + r * width + columns.lowerBound).update(from: from, count: columns.count)
        from += columns.count
      }
    }
  }
}
