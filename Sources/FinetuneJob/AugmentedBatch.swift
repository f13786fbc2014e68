// One augmented training batch, in the order Keras' DirectoryIterator works on an image:
// `load_img` + `img_to_array` (RGB float 0...255), `apply_transform` with a fresh random draw,
// then `preprocessing_function` (preprocess_input, 'caffe': RGB -> BGR, ImageNet means
// subtracted); the frozen prefix follows (AugmentedBlockInputs). The order matters: with fill
// mode 'constant' the cval lands in RGB units before the means are subtracted.
//
// Images are NHWC (N, H, W, 3), RGB in and BGR out.

import Augmentation
import Dispatch
import Heads
import ImageIO
import Support

/// The augmentation of a run: the settings and the seed of its transforms.
struct SeededAugmentation: Sendable {
  var settings: AugmentationSettings
  var seed: UInt64

  /// The generator of the transform of dataset row `row` in epoch `epoch` (0-based): its own
  /// SplitMix64 stream, so the draw depends on nothing else (not the batch, the shuffle, the
  /// threads or an interruption) and a resumed run repeats it bit for bit.
  func generator(epoch: Int, row: Int) -> SplitMix64 {
    precondition(epoch >= 0 && row >= 0 && row < 1 << 32, "row or epoch out of range")
    return SplitMix64(seed: seed, stream: UInt64(epoch) << 32 | UInt64(row))
  }
}

/// Augments each image of `rgb` (count, H, W, 3), RGB 0...255, with its own draw and 'caffe'-
/// preprocesses it; `rows[i]` is image i's dataset row. Returns (count, H, W, 3) BGR, the
/// backbone's input. Images are spread over `threads` workers; the result does not depend on
/// how many.
func augmentedCaffeBatch(
  rgb: UnsafeBufferPointer<Float>, rows: [Int], epoch: Int, augmentation: SeededAugmentation, height: Int, width: Int,
  threads: Int
) -> [Float] {
  let perImage = height * width * 3
  let count = rows.count
  precondition(rgb.count == count * perImage, "rgb is not (\(count), \(height), \(width), 3)")
  return [Float](unsafeUninitializedCapacity: count * perImage) { out, initialized in
    // Workers read `rgb` and write disjoint image slots of `out`.
    nonisolated(unsafe) let source = rgb
    nonisolated(unsafe) let destination = out
    let workers = max(1, min(threads, count))
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      for i in stride(from: worker, to: count, by: workers) {
        let slot = UnsafeMutableBufferPointer(rebasing: destination[(i * perImage)..<((i + 1) * perImage)])
        var generator = augmentation.generator(epoch: epoch, row: rows[i])
        augmentation.settings.augment(
          UnsafeBufferPointer(rebasing: source[(i * perImage)..<((i + 1) * perImage)]), into: slot, height: height,
          width: width, channels: 3, using: &generator)
        caffePreprocessInPlace(slot)
      }
    }
    initialized = count * perImage
  }
}

extension AugmentationSettings {
  /// One line naming every parameter, for the run's fingerprint and log (the same settings
  /// always give the same text, however the flags were spelled).
  public var summary: String {
    "rotation \(rotationRange), width-shift \(widthShiftRange), height-shift \(heightShiftRange), "
      + "shear \(shearRange), zoom [\(zoomRange.lower), \(zoomRange.upper)], horizontal-flip \(horizontalFlip), "
      + "vertical-flip \(verticalFlip), fill \(fillMode.rawValue), cval \(cval)"
  }
}
