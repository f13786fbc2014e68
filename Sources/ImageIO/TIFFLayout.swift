// Which TIFFs Pillow reads and how their samples become RGB: the decision Pillow makes from its
// table of (byte order, photometric, sample format, fill order, bits, extra samples) keys,
// found by experiment with Pillow 13 (Tests/Fixtures/tiff_webp_gif/make_tiff_webp_gif_fixtures.py
// holds one file per kind). A kind Pillow has no entry for is refused, as Pillow refuses it;
// so are the few Pillow reads that Headstart does not reproduce (Docs/keras-parity.md).
import CShims

/// How the kept samples of one pixel become RGB.
enum TIFFColor {
  /// One sample. `invert` for PhotometricInterpretation 0 (min-is-white) below 16 bits.
  case gray(invert: Bool)
  /// One index into a 256-entry table, (R, G, B) per entry: ColorMap's high bytes, as
  /// Pillow's `b // 256`.
  case palette([UInt8])
  /// R, G, B; any extra samples are dropped, as convert('RGB') drops alpha.
  case rgb
  /// R, G, B, A with associated alpha (ExtraSamples 1): Pillow's "RGBa" un-premultiplies.
  case premultipliedRGB
  /// C, M, Y, K (not inverted).
  case cmyk
}

/// What to read from the blocks and how to turn it into RGB.
struct TIFFLayout {
  var color: TIFFColor
  /// Bits per decoded sample: 1, 2, 4, 8 or 16.
  var bits: Int
  /// Samples per pixel in a block: all of them, or 1 for separate planes.
  var samplesPerBlockPixel: Int
  /// 1, or the samples per pixel when each is stored in its own plane (PlanarConfiguration 2).
  var planes: Int
  /// Leading samples kept per pixel: 1 (gray, palette), 3 (RGB) or 4 (premultiplied RGB, CMYK).
  var kept: Int
  /// 16-bit gray is Pillow's "I;16" (or "I" when signed), which convert('RGB') clips to
  /// 0...255; every other 16-bit sample keeps its high byte ("RGB;16N", "CMYK;16N").
  var clipsSixteen: Bool
  var signed: Bool
}

// TIFF tag values (TIFF 6.0).
private let minIsWhite = 0
private let minIsBlack = 1
private let rgbPhotometric = 2
private let palettePhotometric = 3
private let separated = 5
private let yCbCr = 6
private let compressionNone = 1

extension TIFFLayout {
  /// The layout for a TIFF's first directory, or why it cannot be read.
  init(_ info: hs_tiff_info) throws(ImageError) {
    let bits = Int(info.bits_per_sample)
    let spp = Int(info.samples_per_pixel)
    let photometric = Int(info.photometric)
    let format = Int(info.sample_format)
    let planar = info.planar_config == 2 && spp > 1
    var extras = (0..<min(Int(info.extra_count), 8)).map { i in
      withUnsafeBytes(of: info.extra) { Int($0.load(fromByteOffset: 2 * i, as: UInt16.self)) }
    }
    let described =
      "\(bits)-bit, \(spp) sample\(spp == 1 ? "" : "s") per pixel, photometric \(photometric)"
      + (extras.isEmpty ? "" : ", extra samples \(extras)") + (format == 1 ? "" : ", sample format \(format)")
    func refuse(_ why: String = "not a kind Headstart decodes as Pillow does (see Docs/keras-parity.md)")
      -> ImageError
    {
      ImageError("unsupported TIFF (\(described)): \(why)")
    }
    // Pillow's key: with separate planes, trailing unspecified extra samples are left out of it.
    var samples = spp
    if planar && !extras.isEmpty && extras.allSatisfy({ $0 == 0 }) {
      samples -= extras.count
      extras = []
    }
    guard format == 1 || (format == 2 && photometric == minIsBlack && (bits == 8 || bits == 16) && spp == 1) else {
      throw refuse()
    }
    // Fill order 2 (bits reversed; libtiff undoes it) is in Pillow's table for these only.
    if info.fill_order == 2 && !(bits <= 8 && (spp == 1 || (photometric == rgbPhotometric && spp == 3))) {
      throw refuse()
    }
    if planar && bits == 16 && info.compression == compressionNone {
      // Pillow reads uncompressed planes of 16-bit samples as 8-bit ones (its per-plane raw
      // mode is one letter of "RGB;16L"): its pixels are not the image's, so none are given.
      throw refuse("Pillow misreads uncompressed 16-bit samples in separate planes")
    }
    var layout = TIFFLayout(
      color: .rgb, bits: bits, samplesPerBlockPixel: planar ? 1 : spp, planes: planar ? spp : 1, kept: 3,
      clipsSixteen: false, signed: format == 2)
    // The extra samples Pillow drops: none, unspecified (0) or unassociated alpha (2), and
    // Corel Draw's 999 for a lone fourth sample.
    func dropped(_ extra: [Int]) -> Bool {
      extra.allSatisfy { $0 == 0 } || (extra.first == 2 && extra.dropFirst().allSatisfy { $0 == 0 })
    }
    switch photometric {
    case minIsWhite, minIsBlack:
      layout.kept = 1
      switch (bits, samples, extras) {
      case (1, 1, []), (2, 1, []), (4, 1, []), (8, 1, []):
        layout.color = .gray(invert: photometric == minIsWhite)
      case (8, 2, [0]), (8, 2, [2]):
        guard photometric == minIsBlack else { throw refuse() }
        layout.color = .gray(invert: false)
      case (16, 1, []):
        // Pillow keys min-is-white 16-bit little-endian files to "I;16" like min-is-black ones
        // (no inversion) and has no key for big-endian ones.
        guard photometric == minIsBlack || info.big_endian == 0 else { throw refuse() }
        guard !(photometric == minIsWhite && layout.signed) else { throw refuse() }
        layout.color = .gray(invert: false)
        layout.clipsSixteen = true
      default: throw refuse()
      }
      if layout.signed && bits != 16 { layout.signed = false }  // signed 8-bit is read as "L"
    case rgbPhotometric, yCbCr:
      if photometric == yCbCr {
        // Pillow lets libjpeg convert JPEG-compressed YCbCr; other compressed YCbCr goes
        // through libtiff's TIFFRGBAImage in Pillow, uncompressed YCbCr through Pillow's own
        // conversion. Headstart reproduces neither.
        guard info.jpeg_rgb != 0, bits == 8, samples == 3 else {
          throw refuse("YCbCr is read only when JPEG-compressed")
        }
      }
      // A fourth sample without an ExtraSamples tag is alpha to Pillow ("RGBA"), and dropped.
      guard samples - extras.count == 3 || (samples == 4 && extras.isEmpty) else { throw refuse() }
      let extra = extras
      switch bits {
      case 8:
        guard extra.count <= 3 else { throw refuse() }
        if extra.first == 1 && extra.dropFirst().allSatisfy({ $0 == 0 }) {
          layout.color = .premultipliedRGB
          layout.kept = 4
        } else if !(dropped(extra) || (extra == [999])) {
          throw refuse()
        }
      case 16:
        switch extra {
        case [], [0], [2]: break
        case [1]:
          layout.color = .premultipliedRGB
          layout.kept = 4
        default: throw refuse()
        }
      default: throw refuse()
      }
    case palettePhotometric:
      layout.kept = 1
      switch (bits, samples, extras) {
      case (1, 1, []), (2, 1, []), (4, 1, []), (8, 1, []), (8, 2, [0]), (8, 2, [2]): break
      default: throw refuse()
      }
      guard info.has_colormap != 0 else { throw ImageError("corrupt TIFF: a palette image without a ColorMap") }
      var table = [UInt8](repeating: 0, count: 256 * 3)
      withUnsafeBytes(of: info.colormap) { raw in
        let map = raw.bindMemory(to: UInt16.self)
        for i in 0..<(1 << bits) {
          for channel in 0..<3 { table[3 * i + channel] = UInt8(map[256 * channel + i] >> 8) }
        }
      }
      layout.color = .palette(table)
    case separated:
      layout.color = .cmyk
      layout.kept = 4
      switch (bits, samples, extras) {
      case (8, 4, []), (8, 5, [0]), (8, 6, [0, 0]), (16, 4, []): break
      default: throw refuse()
      }
    default:
      throw refuse()
    }
    if info.jpeg_rgb != 0 {
      // libjpeg hands out interleaved 8-bit RGB.
      layout.samplesPerBlockPixel = 3
      layout.planes = 1
    }
    self = layout
  }
}
