// libFuzzer target: one input is one image file's bytes, loaded as extract loads an image
// (ImageIO.loadImage(bytes:options:): decoding by content, Pillow's pixel limit, the resize).
import FuzzDriver
import ImageIO

/// Images above 4 Mpx (2048 x 2048) are refused here. Pillow's own limit (defaultMaxPixels,
/// 179 Mpx) lets a 160 KB PNG decode to 169 Mpx, which takes 7 s in this unoptimised,
/// instrumented build: legitimate work, not a finding, but libFuzzer reports any unit over 10 s
/// as slow. Below the lower limit every decoder path is still reached, the limit check itself
/// is fuzzed, and libFuzzer's default 2 GB memory limit catches any allocation that does not
/// follow the pixel count (a PNG text-chunk bomb, a TIFF strip larger than its image).
let fuzzMaxPixels = 1 << 22

/// The load settings vary with the input's length, so one corpus exercises both resamplings,
/// both EXIF modes, and shrinking as well as enlarging.
func options(forLength length: Int) -> LoadOptions {
  let sizes = [(224, 224), (7, 300), (1, 1)]
  let (height, width) = sizes[length % sizes.count]
  return LoadOptions(
    height: height, width: width,
    interpolation: length / sizes.count % 2 == 0 ? .nearest : .bilinear,
    exif: length / sizes.count / 2 % 2 == 0 ? .ignore : .apply, maxPixels: fuzzMaxPixels)
}

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = inputBytes(data, size)
  let options = options(forLength: bytes.count)
  guard let loaded = try? loadImage(bytes: bytes, options: options) else { return 0 }
  // A loaded image always has the target size, whatever the file said.
  precondition(loaded.image.width == options.width && loaded.image.height == options.height)
  precondition(loaded.image.pixels.count == options.width * options.height * 3)
  return 0
}

runLibFuzzer(testOneInput)
