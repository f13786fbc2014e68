// The pipeline `extract` and `predict` share: decode a batch of images on a few threads while
// the backbone runs the previous batch, and hand each batch's features on in order.
//
// Input to the backbone (usable images, H, W, 3) 'caffe'-preprocessed BGR; features out
// (usable images, sum of tap widths), each tap global-average-pooled and L2-normalised.

import Backbones
import Dispatch

/// Runs `batches` (indices into the caller's list of batches, in this order) through decoding
/// and the backbone. Batch k+1 is decoded on another thread while the backbone works on batch k.
///
/// `inspect` sees each decoded batch before its forward pass and may stop the run by throwing
/// (extract's `--strict`); `body` receives each batch with its features, row i the i-th usable
/// image of the batch. A batch without usable images gets no forward pass (empty features).
/// Whatever throws, the prefetching decode has finished before this returns.
public func forEachFeatureBatch(
  _ batches: [Int], paths: @escaping @Sendable (Int) -> ArraySlice<String>, decoder: BatchDecoder,
  backbone: Backbone, taps: [String], inspect: (DecodedBatch) throws -> Void = { _ in },
  body: (DecodedBatch, [Float]) throws -> Void
) throws {
  var next: DecodedBatch? = batches.first.map { decoder.decode(paths: paths($0), batch: $0) }
  var position = 0
  while let batch = next {
    // Decode the following batch while the backbone works on this one.
    let group = DispatchGroup()
    defer { group.wait() }
    let following = position + 1 < batches.count ? batches[position + 1] : nil
    nonisolated(unsafe) var prefetched: DecodedBatch?
    if let following {
      DispatchQueue.global().async(group: group) {
        prefetched = decoder.decode(paths: paths(following), batch: following)
      }
    }
    if let stop = batch.stop { throw BatchInputError(description: stop) }
    try inspect(batch)
    let features: [Float]
    if batch.usable > 0 {
      features = try batch.input.withUnsafeBufferPointer {
        try backbone.features(
          $0, count: batch.usable, height: decoder.options.height, width: decoder.options.width, taps: taps)
      }
    } else {
      features = []
    }
    try body(batch, features)
    group.wait()
    next = prefetched
    position += 1
  }
}

/// The input of a batch could not be read at all (`DecodedBatch.stop`): the run stops, its
/// finished batches kept.
public struct BatchInputError: Error, CustomStringConvertible {
  public var description: String
}
