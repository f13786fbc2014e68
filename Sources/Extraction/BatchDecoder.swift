// Decoding a batch of images into the backbone's input, on a few threads.

import Dispatch
import FeatureStore
import Foundation
import ImageIO

/// One batch ready for the backbone: the usable images packed first, and every image's outcome.
public final class DecodedBatch: @unchecked Sendable {
  /// The batch's index in the run's list of batches.
  public let index: Int
  /// (usable images, H, W, 3), packed in dataset order: 'caffe'-preprocessed BGR, or with
  /// `DecodedPixels.rgb` the resized RGB values 0...255 as floats.
  public internal(set) var input: [Float]
  /// Every image's outcome, in the batch's path order: `failure` says why an image is unusable.
  public internal(set) var entries: [JournalEntry]
  /// How many images decoded (the rows of `input`).
  public var usable: Int { entries.filter { $0.failure == nil }.count }
  /// Why the input itself could not be read (an array file damaged or changed during the run):
  /// unlike one bad image file, this stops the run (`forEachFeatureBatch` throws it).
  public internal(set) var stop: String?

  init(index: Int, capacity: Int, pixelsPerImage: Int) {
    self.index = index
    self.input = [Float](repeating: 0, count: capacity * pixelsPerImage)
    self.entries = []
  }
}

/// What `BatchDecoder` writes for each usable image.
public enum DecodedPixels: Sendable {
  /// Keras' `preprocess_input` in 'caffe' mode: BGR, ImageNet means subtracted (the backbone's
  /// input).
  case caffe
  /// Keras' `img_to_array(load_img(...))`: the resized RGB values 0...255 as floats, for a
  /// caller that transforms the pixels (augmentation) before preprocessing them itself.
  case rgb
}

/// Decodes, resizes and preprocesses the images of a batch exactly as Keras' `load_img` +
/// `preprocess_input` would, spreading the images over `threads` workers.
public struct BatchDecoder: Sendable {
  /// The folder the paths are relative to; empty when the paths are usable as they are.
  public let root: String
  /// Images from an array instead of files (ArrayInput.swift), and the array row of the first
  /// path of the list the batches slice (a shard's first row).
  public let array: ArrayImages?
  public let firstRow: Int
  public let options: LoadOptions
  public let threads: Int
  /// 'caffe'-preprocessed (the default) or plain RGB.
  public let pixels: DecodedPixels

  public init(root: String, options: LoadOptions, threads: Int, pixels: DecodedPixels = .caffe) {
    self.root = root
    self.array = nil
    self.firstRow = 0
    self.options = options
    self.threads = threads
    self.pixels = pixels
  }

  /// A decoder of array rows: a batch's paths are a slice of the row names of rows
  /// `firstRow...`, and the slice's indices say which rows.
  public init(array: ArrayImages, firstRow: Int, options: LoadOptions, threads: Int, pixels: DecodedPixels = .caffe) {
    self.root = ""
    self.array = array
    self.firstRow = firstRow
    self.options = options
    self.threads = threads
    self.pixels = pixels
  }

  /// Decodes `paths` (stored forms, relative to `root`) into one batch; an image that cannot be
  /// used gets its reason in `entries` and no row in `input`.
  public func decode(paths: ArraySlice<String>, batch: Int) -> DecodedBatch {
    if let array { return decodeRows(array, paths: paths, batch: batch) }
    let pixelsPerImage = options.height * options.width * 3
    let count = paths.count
    let result = DecodedBatch(index: batch, capacity: count, pixelsPerImage: pixelsPerImage)
    // Each image is decoded into its own slot; usable ones are packed afterwards.
    // Workers write disjoint slots; nothing else touches these buffers until they all finish.
    nonisolated(unsafe) let slots = UnsafeMutableBufferPointer<Float>.allocate(capacity: count * pixelsPerImage)
    defer { slots.deallocate() }
    nonisolated(unsafe) let outcomes = UnsafeMutableBufferPointer<JournalEntry>.allocate(capacity: count)
    outcomes.initialize(repeating: JournalEntry(failure: "not decoded", exifOrientation: 1))
    defer { outcomes.deinitialize().deallocate() }
    let workers = max(1, min(threads, count))
    let paths = Array(paths)
    let root = self.root
    let options = self.options
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      for i in stride(from: worker, to: count, by: workers) {
        do {
          // Paths are stored forms (escaped, FeatureStore/StoredPath.swift): the file is opened
          // by its raw bytes and named by its stored form.
          let loaded = try loadImage(
            atPathBytes: filePathBytes(root: root, stored: paths[i]),
            shownAs: root.isEmpty ? paths[i] : root + "/" + paths[i], options: options)
          let slot = UnsafeMutableBufferPointer(rebasing: slots[(i * pixelsPerImage)..<((i + 1) * pixelsPerImage)])
          store(loaded.image, into: slot)
          outcomes[i] = JournalEntry(failure: nil, exifOrientation: UInt8(clamping: loaded.exifOrientation))
        } catch {
          outcomes[i] = JournalEntry(failure: String(describing: error), exifOrientation: 1)
        }
      }
    }
    result.entries = Array(outcomes)
    pack(slots, outcomes: outcomes, into: result)
    return result
  }

  /// Rows of an array as a batch: read in one piece, then each image resized (when its size is
  /// not the target's, as load_img resizes a decoded image) and preprocessed on `threads` workers.
  private func decodeRows(_ array: ArrayImages, paths: ArraySlice<String>, batch: Int) -> DecodedBatch {
    let pixelsPerImage = options.height * options.width * 3
    let count = paths.count
    let result = DecodedBatch(index: batch, capacity: count, pixelsPerImage: pixelsPerImage)
    let images: [RGBImage]
    do {
      images = try array.images(rows: (firstRow + paths.startIndex)..<(firstRow + paths.endIndex))
    } catch {
      result.stop = error.description
      result.entries = Array(repeating: JournalEntry(failure: error.description, exifOrientation: 1), count: count)
      result.input = []
      return result
    }
    // Workers write disjoint parts of `input`; nothing else touches it until they all finish.
    let workers = max(1, min(threads, count))
    let options = self.options
    result.input.withUnsafeMutableBufferPointer { input in
      nonisolated(unsafe) let input = input
      DispatchQueue.concurrentPerform(iterations: workers) { worker in
        for i in stride(from: worker, to: count, by: workers) {
          let image = resize(
            images[i], height: options.height, width: options.width, interpolation: options.interpolation)
          store(
            image, into: UnsafeMutableBufferPointer(rebasing: input[(i * pixelsPerImage)..<((i + 1) * pixelsPerImage)]))
        }
      }
    }
    result.entries = Array(repeating: JournalEntry(failure: nil, exifOrientation: 1), count: count)
    return result
  }

  /// One image as the backbone's input ('caffe') or as RGB floats.
  private func store(_ image: RGBImage, into slot: UnsafeMutableBufferPointer<Float>) {
    switch pixels {
    case .caffe: caffePreprocess(image, into: slot)
    case .rgb:
      image.pixels.withUnsafeBufferPointer { bytes in
        for k in 0..<slot.count { slot[k] = Float(bytes[k]) }
      }
    }
  }

  /// Packs the usable images' slots, in order, into `result.input`.
  private func pack(
    _ slots: UnsafeMutableBufferPointer<Float>, outcomes: UnsafeMutableBufferPointer<JournalEntry>,
    into result: DecodedBatch
  ) {
    let pixelsPerImage = options.height * options.width * 3
    let count = outcomes.count
    var packed = 0
    result.input.withUnsafeMutableBufferPointer { input in
      for i in 0..<count where outcomes[i].failure == nil {
        let source = slots.baseAddress! + i * pixelsPerImage
        (input.baseAddress! + packed * pixelsPerImage).update(from: source, count: pixelsPerImage)
        packed += 1
      }
    }
    result.input.removeLast((count - packed) * pixelsPerImage)
  }
}
