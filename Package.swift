// swift-tools-version:6.0
// Headstart: transfer learning on images, on the CPU, with Keras' numbers.
//
// Every target, bottom to top (each uses only targets on the lines above it):
//   CHDF5, CBLAS, CJPEG, CPNG, CTIFF, CWebP, CGIF, CZlib (system libraries)
//   CShims (libjpeg errors, HDF5 macros, zlib, libtiff messages and tags)
//   CKernels (CPUID, the vector kernels chosen at start-up)   Support (version, seeded random numbers, SHA-256, progress,
//     byte counts, atomic file replacement)
//   Engine (NHWC tensors, layers forward and backward, kernels)   HDF5 (Swift wrapper)
//   ImageIO (decode, resize, 'caffe')   Augmentation (ImageDataGenerator's transforms)
//   ArrayIO (.npy, .npz and HDF5 arrays read by rows)
//   Backbones (ResNet50, VGG16/19, Keras weight files)   FeatureStore (the feature file)
//   Extraction (datasets, labels, the resumable extract job)   Heads (multi-head training, the row split)
//   Finetuning (the last block's trainers)   Report (the HTML page)
//   Fitting (the fit-heads job)   Predicting (the predict job, the heads-versus-weights check)
//   FinetuneJob (the finetune job: block-input cache, epochs, checkpoint, export)
//   ToolSupport (exit codes, OpenBLAS kernel choice, --version)
//   headstart (the one command: extract, fit-heads, finetune, predict)
// The fuzz targets (Fuzz/Package.swift) are a package of their own that depends on this one.
import PackageDescription

// The arithmetic-heavy targets are optimised in debug builds too: the tests run the real
// `headstart` end to end (extract, fit-heads, finetune, predict on real images), and unoptimised
// vector kernels and layer loops made `swift test` three times slower. Testability is kept
// (-enable-testing), so tests still `@testable import` them.
let optimizedSwift: [SwiftSetting] = [.unsafeFlags(["-O", "-enable-testing"], .when(configuration: .debug))]
let optimizedC: [CSetting] = [.unsafeFlags(["-O2"], .when(configuration: .debug))]

let package = Package(
  name: "Headstart",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "headstart", targets: ["headstart"]),
    .library(name: "Extraction", targets: ["Extraction"]),
    // The readers of untrusted files, for the fuzz targets (Fuzz/, a package of its own).
    .library(name: "ImageIO", targets: ["ImageIO"]),
    .library(name: "ArrayIO", targets: ["ArrayIO"]),
    .library(name: "FeatureStore", targets: ["FeatureStore"]),
    .library(name: "Backbones", targets: ["Backbones"]),
    .library(name: "Fitting", targets: ["Fitting"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
  ],
  targets: [
    // System libraries, found through pkg-config.
    .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
    .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
    .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
    .systemLibrary(name: "CTIFF", pkgConfig: "libtiff-4", providers: [.apt(["libtiff-dev"])]),
    // libwebp and libwebpdemux (WebPAnimDecoder, which Pillow decodes every WebP file with).
    .systemLibrary(name: "CWebP", pkgConfig: "libwebpdemux", providers: [.apt(["libwebp-dev"])]),
    .systemLibrary(name: "CGIF", pkgConfig: "libgif", providers: [.apt(["libgif-dev"])]),
    // zlib's CRC-32, a few times faster than a byte-wise table (finetune checksums ~240 MB of
    // checkpoint every epoch).
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    // The little C that Swift cannot host: libjpeg's setjmp error handling, HDF5 macro constants,
    // measuring zlib streams (PNG's compressed text chunks; zlib comes with libpng), libtiff's
    // printf-style message handlers and variadic tag accessors.
    .target(
      name: "CShims", dependencies: ["CHDF5", "CJPEG", "CPNG", "CTIFF"], linkerSettings: [.linkedLibrary("z")]),

    // CPU identification (CPUID and the OS's XCR0) and the vector kernels chosen from it once at
    // start-up (AVX-512, AVX2+FMA or portable C). No other dependency, so the engine does not see
    // the HDF5 and image headers CShims brings.
    .target(name: "CKernels", cSettings: optimizedC),
    // The small pieces every layer may use: the version, seeded random numbers, SHA-256, CRC-32,
    // progress lines, byte counts, atomic file replacement.
    .target(name: "Support", dependencies: ["CZlib"], swiftSettings: optimizedSwift),
    .target(name: "Engine", dependencies: ["CBLAS", "CKernels"], swiftSettings: optimizedSwift),
    // Optimised like the engine: it verifies the Fletcher-32 checksums of a mapped feature file
    // (hundreds of MB) with a vector loop.
    .target(name: "HDF5", dependencies: ["CHDF5", "CShims"], swiftSettings: optimizedSwift),
    .target(
      name: "ImageIO", dependencies: ["CShims", "CJPEG", "CPNG", "CWebP", "CGIF", "Support"],
      swiftSettings: optimizedSwift),
    // Images given as arrays (keras.datasets' x_train): .npy, .npz and HDF5, read by row ranges.
    .target(name: "ArrayIO", dependencies: ["CShims", "HDF5", "Support"]),
    .target(name: "Backbones", dependencies: ["Engine", "HDF5"], swiftSettings: optimizedSwift),
    .target(name: "FeatureStore", dependencies: ["HDF5"]),
    .target(
      name: "Extraction", dependencies: ["ArrayIO", "Backbones", "ImageIO", "FeatureStore", "HDF5", "Support"]),
    .target(name: "Heads", dependencies: ["Engine", "FeatureStore", "HDF5", "Support"], swiftSettings: optimizedSwift),
    // Finetuning: the last backbone block trained end to end with the heads.
    .target(name: "Finetuning", dependencies: ["Backbones", "Heads", "Engine"], swiftSettings: optimizedSwift),
    // Augmentation: Keras ImageDataGenerator's geometric transforms on (H, W, C) float images.
    .target(name: "Augmentation", swiftSettings: optimizedSwift),
    // Report: one self-contained HTML page per run (inline SVG, data: URI thumbnails).
    .target(name: "Report", dependencies: ["ImageIO", "CShims"]),
    .target(
      name: "Fitting",
      dependencies: [
        "Heads", "FeatureStore", "HDF5", "Report", "Support", .product(name: "Yams", package: "Yams"),
      ]),
    // predict: the heads file's provenance decides decoding and taps; extract's pipeline makes the features.
    .target(
      name: "Predicting",
      dependencies: ["Extraction", "Heads", "Backbones", "ImageIO", "FeatureStore", "HDF5", "Support"]),
    // The exit-code contract the tools share (0 done, 2 usage, 1 runtime).
    // It also makes OpenBLAS use kernels that fit the CPU and answers --version with the machine report.
    .target(
      name: "ToolSupport",
      dependencies: ["Engine", "Support", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    // finetune's job: the block-input cache, the epochs, the checkpoint and the export.
    .target(
      name: "FinetuneJob",
      dependencies: [
        "Finetuning", "Extraction", "Fitting", "Predicting", "HDF5", "Augmentation", "Heads", "Support",
      ]),
    // The one executable: only the command line of each command.
    .executableTarget(
      name: "headstart",
      dependencies: [
        "Extraction", "FeatureStore", "Fitting", "FinetuneJob", "Predicting", "ToolSupport", "Augmentation", "HDF5",
        "Support",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    .testTarget(name: "EngineTests", dependencies: ["Engine"]),
    .testTarget(name: "HDF5Tests", dependencies: ["HDF5", "CHDF5", "CShims", "ToolTesting"]),
    .testTarget(name: "ImageIOTests", dependencies: ["ImageIO", "Support"]),
    .testTarget(name: "ArrayIOTests", dependencies: ["ArrayIO", "HDF5", "ToolTesting"]),
    .testTarget(name: "BackbonesTests", dependencies: ["Backbones", "HDF5"]),
    .testTarget(name: "FeatureStoreTests", dependencies: ["FeatureStore", "HDF5", "Support", "ToolTesting"]),
    .testTarget(name: "AugmentationTests", dependencies: ["Augmentation", "Support"]),
    .testTarget(name: "FinetuningTests", dependencies: ["Finetuning", "Backbones", "Heads", "Engine"]),
    .testTarget(name: "HeadsTests", dependencies: ["Heads", "HDF5", "FeatureStore", "Support"]),
    // Finding and running the built tools, and damaging the files they write, shared by the
    // tools' end-to-end tests.
    .target(name: "ToolTesting", dependencies: ["HDF5"], path: "Tests/ToolTesting"),
    .testTarget(
      name: "FitHeadsTests",
      dependencies: ["Fitting", "Heads", "FeatureStore", "HDF5", "Support", "ToolTesting", "headstart"]),
    .testTarget(
      name: "ExtractTests", dependencies: ["ArrayIO", "Extraction", "HDF5", "Support", "ToolTesting", "headstart"]),
    // The kernel choice and --version, on the built extract.
    .testTarget(
      name: "ToolSupportTests", dependencies: ["ToolSupport", "Engine", "Support", "ToolTesting", "headstart"]),
    .testTarget(
      name: "PredictTests",
      dependencies: [
        "Predicting", "Heads", "Backbones", "FeatureStore", "HDF5", "Support", "ToolTesting", "headstart",
      ]),
    .testTarget(
      name: "ReportTests",
      dependencies: ["Report", "Fitting", "Heads", "FeatureStore", "ImageIO", "Support", "headstart"]),
    .testTarget(
      name: "FinetuneToolTests",
      dependencies: [
        "Heads", "HDF5", "Backbones", "Augmentation", "Extraction", "Finetuning", "ImageIO", "ToolTesting", "headstart",
        "FinetuneJob", "Support",
      ]),
  ]
)
