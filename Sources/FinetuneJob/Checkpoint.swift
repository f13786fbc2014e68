// `<output>.partial`: everything a run needs to continue after its last finished epoch, written
// atomically (temporary file, then rename) after every epoch. The shuffling of epoch e depends
// only on the seed and e (and an augmentation draw only on --augment-seed, e and the image's
// dataset row), so the block's and heads' arrays, the optimisers' state and the
// early-stopping bookkeeping are the whole state; a resumed run equals an uninterrupted one bit
// for bit. Layout: "HSCKPT2\n", the JSON header's length (UInt64 little endian), the JSON
// header, every array's float32 values in header order, then the CRC-32 of all that (UInt32
// little endian): a damaged checkpoint is refused, never resumed from.

import Backbones
import Foundation
import Heads
import Support

struct Checkpoint {
  struct Header: Codable {
    /// The arguments that decide the result; a rerun with others is refused.
    var fingerprint: String
    var epochsDone: Int
    var bestEpoch: Int
    var bestLoss: Double
    var history: [String: [Float]]
    /// Array names and shapes, in the order their values follow the header.
    var arrays: [String]
    var shapes: [[Int]]
    var optimizerSteps: [Int]
  }

  var fingerprint: String
  var epochsDone: Int
  /// 1-based; 0 before any epoch.
  var bestEpoch: Int
  var bestLoss: Double
  var history: [String: [Float]]
  var block: KerasWeights
  var heads: [Float]
  var optimizers: [OptimizerState]
  var bestBlock: KerasWeights
  var bestHeads: [Float]

  /// Version 2 ends with the CRC-32 of everything before it (version 1 had none; a damaged
  /// value was resumed from silently).
  private static let magic = Data("HSCKPT2\n".utf8)

  /// Writes the header, then each array straight from its buffer (no copy of the ~240 MB a
  /// ResNet50 checkpoint holds with Adam), then the CRC-32 of all of it, to a temporary file
  /// renamed over `path`.
  func write(to path: String) throws {
    var arrays: [(name: String, shape: [Int], values: [Float])] = []
    for (prefix, weights) in [("block", block), ("best", bestBlock)] {
      for layer in weights.layers.keys.sorted() {
        for kind in WeightKind.allCases {
          if let array = weights.layers[layer]?[kind] {
            arrays.append(("\(prefix)/\(layer)/\(kind.rawValue)", array.shape, array.values))
          }
        }
      }
    }
    arrays.append(("heads", [heads.count], heads))
    arrays.append(("best_heads", [bestHeads.count], bestHeads))
    for (i, state) in optimizers.enumerated() {
      arrays.append(("opt/\(i)/m", [state.m.count], state.m))
      arrays.append(("opt/\(i)/v", [state.v.count], state.v))
      arrays.append(("opt/\(i)/velocity", [state.velocity.count], state.velocity))
      arrays.append(("opt/\(i)/momentum", [state.momentum.count], state.momentum))
    }
    let header = Header(
      fingerprint: fingerprint, epochsDone: epochsDone, bestEpoch: bestEpoch, bestLoss: bestLoss,
      history: history, arrays: arrays.map(\.name), shapes: arrays.map(\.shape), optimizerSteps: optimizers.map(\.step))
    let json = try JSONEncoder().encode(header)
    var start = Self.magic
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { start.append(contentsOf: $0) }
    start.append(json)
    do {
      try AtomicFile.replace(path) { temporary in
        func failure() -> FinetuneFailure {
          FinetuneFailure(
            description: "cannot write the checkpoint \(temporary): \(String(cString: strerror(errno)))", exitCode: 1)
        }
        guard let file = fopen(temporary, "wb") else { throw failure() }
        var crc: UInt32 = 0
        func put(_ raw: UnsafeRawBufferPointer) -> Bool {
          crc = CRC32.update(crc, raw)
          return raw.isEmpty || fwrite(raw.baseAddress, 1, raw.count, file) == raw.count
        }
        var written = start.withUnsafeBytes(put)
        for array in arrays where written { written = array.values.withUnsafeBytes(put) }
        if written { written = withUnsafeBytes(of: crc.littleEndian) { fwrite($0.baseAddress, 1, 4, file) == 4 } }
        guard written else {
          let error = failure()
          fclose(file)
          throw error
        }
        guard fclose(file) == 0 else { throw failure() }
      }
    } catch let error as AtomicReplaceError {
      throw FinetuneFailure(description: error.description, exitCode: 1)
    }
  }

  /// The checkpoint at `path`, or nil when there is none.
  static func read(path: String) throws -> Checkpoint? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    let broken = FinetuneFailure.usage("\(path) is not a finetune checkpoint; remove it to start over")
    guard data.count > magic.count + 12, data.prefix(magic.count) == magic else { throw broken }
    var stored: UInt32 = 0
    withUnsafeMutableBytes(of: &stored) { $0.copyBytes(from: data.suffix(4)) }
    guard CRC32.checksum(data.dropLast(4)) == UInt32(littleEndian: stored) else {
      throw FinetuneFailure.usage("\(path) is damaged (its CRC-32 does not match); remove it to start over")
    }
    var length: UInt64 = 0
    withUnsafeMutableBytes(of: &length) { $0.copyBytes(from: data[magic.count..<(magic.count + 8)]) }
    let headerStart = magic.count + 8
    let headerEnd = headerStart + Int(UInt64(littleEndian: length))
    guard headerEnd <= data.count,
      let header = try? JSONDecoder().decode(Header.self, from: data[headerStart..<headerEnd])
    else { throw broken }
    var offset = headerEnd
    var arrays: [String: WeightArray] = [:]
    for (name, shape) in zip(header.arrays, header.shapes) {
      let count = shape.reduce(1, *)
      let bytes = count * MemoryLayout<Float>.size
      guard offset + bytes <= data.count - 4 else { throw broken }
      var values = [Float](repeating: 0, count: count)
      values.withUnsafeMutableBytes { $0.copyBytes(from: data[offset..<(offset + bytes)]) }
      offset += bytes
      arrays[name] = WeightArray(shape: shape, values: values)
    }
    func weights(_ prefix: String) -> KerasWeights {
      var result = KerasWeights()
      for (name, array) in arrays where name.hasPrefix(prefix + "/") {
        let parts = name.split(separator: "/").map(String.init)
        guard parts.count == 3, let kind = WeightKind(rawValue: parts[2]) else { continue }
        result.layers[parts[1], default: [:]][kind] = array
      }
      return result
    }
    let states = header.optimizerSteps.enumerated().map { i, step in
      OptimizerState(
        m: arrays["opt/\(i)/m"]?.values ?? [], v: arrays["opt/\(i)/v"]?.values ?? [],
        velocity: arrays["opt/\(i)/velocity"]?.values ?? [], momentum: arrays["opt/\(i)/momentum"]?.values ?? [],
        step: step)
    }
    return Checkpoint(
      fingerprint: header.fingerprint, epochsDone: header.epochsDone, bestEpoch: header.bestEpoch,
      bestLoss: header.bestLoss, history: header.history, block: weights("block"), heads: arrays["heads"]?.values ?? [],
      optimizers: states, bestBlock: weights("best"), bestHeads: arrays["best_heads"]?.values ?? [])
  }
}
