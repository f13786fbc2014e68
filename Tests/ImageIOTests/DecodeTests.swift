// Decoding every JPEG/PNG variant against Pillow's open().convert('RGB').
import Support
import XCTest

@testable import ImageIO

final class DecodeTests: XCTestCase {
  /// Every fixture must match Pillow exactly: PNG is lossless, and for JPEG we run the same
  /// libjpeg-turbo algorithms (ISLOW IDCT, fancy upsampling) Pillow's bundled copy runs.
  func testDecodeMatchesPillow() throws {
    let manifest = try loadManifest()
    XCTAssertFalse(manifest.decode.isEmpty)
    var worst = 0
    for entry in manifest.decode {
      let (image, orientation) = try decodeFixture(entry.file)
      let expected = try expectedRGB(entry.expected, width: entry.width, height: entry.height)
      let diff = maxAbsDiff(image, expected)
      print(
        "decode \(entry.file) (\(entry.note)): \(image.width)x\(image.height), "
          + "max |diff| \(diff)")
      XCTAssertEqual(diff, 0, "\(entry.file): \(entry.note)")
      XCTAssertEqual(orientation, 1, entry.file)
      worst = max(worst, diff)
    }
    print("decode: \(manifest.decode.count) files, max |diff| vs Pillow \(manifest.pillow): \(worst)")
  }

  /// Several threads decoding at once get the same pixels as one thread does.
  func testConcurrentDecodingIsDeterministic() throws {
    let manifest = try loadManifest()
    let files = manifest.decode.map(\.file)
    let serial = try files.map { try decodeFixture($0).0 }
    final class Results: @unchecked Sendable {  // guarded by `lock`
      let lock = NSLock()
      var images: [Int: RGBImage] = [:]
    }
    let results = Results()
    DispatchQueue.concurrentPerform(iterations: files.count * 4) { i in
      let image = try? decodeFixture(files[i % files.count]).0
      results.lock.withLock { results.images[i] = image }
    }
    for i in 0..<(files.count * 4) {
      XCTAssertEqual(results.images[i], serial[i % files.count], files[i % files.count])
    }
  }

  /// loadImage against Keras' own load_img + img_to_array (CRC-32s recorded by the script).
  func testLoadImageMatchesKeras() throws {
    let manifest = try loadManifest()
    XCTAssertFalse(manifest.keras.isEmpty)
    for entry in manifest.keras {
      let interpolation = try XCTUnwrap(Interpolation(rawValue: entry.interpolation))
      let options = LoadOptions(height: entry.height, width: entry.width, interpolation: interpolation)
      let loaded = try loadImage(at: fixturePath(entry.file), options: options)
      let crc = loaded.image.pixels.withUnsafeBytes { CRC32.update(0, $0) }
      XCTAssertEqual(crc, entry.crc32, "\(entry.file) \(entry.height)x\(entry.width) \(entry.interpolation)")
    }
    print("load_img: \(manifest.keras.count) cases checked against \(manifest.keras[0].via)")
  }

  func testLoadImageDecodesAndResizesLikeKerasLoadImg() throws {
    // load_img(astro_420.jpg, target_size=(224, 224), interpolation='bilinear')
    let loaded = try loadImage(
      at: fixturePath("src/astro_420.jpg"),
      options: LoadOptions(interpolation: .bilinear))
    let expected = try expectedRGB("astro_420_bilinear_224x224.rgb", width: 224, height: 224)
    XCTAssertEqual(maxAbsDiff(loaded.image, expected), 0)
    XCTAssertEqual(loaded.exifOrientation, 1)
    let nearest = try loadImage(
      at: fixturePath("src/astro_420.jpg"),
      options: LoadOptions(height: 53, width: 37))
    let expectedNearest = try expectedRGB("astro_420_nearest_53x37.rgb", width: 37, height: 53)
    XCTAssertEqual(maxAbsDiff(nearest.image, expectedNearest), 0)
  }
}
