// swift-tools-version:6.0
// Fuzz targets (libFuzzer with AddressSanitizer) for every reader of untrusted input. A package of
// its own, depending on the main one by path, so `swift build` and `swift test` there never see
// them. scripts/fuzz.sh builds it with `-sanitize=fuzzer,address` and runs each target; each one
// calls the same entry point the commands use, never a copy of it.
//   FuzzImage         image bytes -> decode (by content) -> resize, as extract loads an image
//   FuzzLabelsCSV     a labels CSV -> table -> stored paths and typed label columns
//   FuzzHeadsYAML     a heads YAML file -> head requests -> checked as fit-heads checks them
//   FuzzHeadsJSON     the same for a JSON heads file
//   FuzzKerasWeights  a weight file (HDF5, written to a temporary file) -> loaded as extract loads it
//   FuzzArrays        a .npy or .npz file (written to a temporary file) -> its arrays and rows, as
//                     extract --array reads them
import PackageDescription

let headstart = "Headstart"

let package = Package(
  name: "HeadstartFuzz",
  platforms: [.macOS(.v13)],
  dependencies: [.package(name: headstart, path: "..")],
  targets: [
    // libFuzzer's driver, started from each target's main (SwiftPM gives executables their own).
    .systemLibrary(name: "CLibFuzzer"),
    .target(name: "FuzzDriver", dependencies: ["CLibFuzzer"]),
    .executableTarget(
      name: "FuzzImage", dependencies: ["FuzzDriver", .product(name: "ImageIO", package: headstart)]),
    .executableTarget(
      name: "FuzzLabelsCSV", dependencies: ["FuzzDriver", .product(name: "FeatureStore", package: headstart)]),
    // What fit-heads does with a heads file before training, shared by the YAML and JSON targets.
    .target(
      name: "HeadsFileCheck",
      dependencies: [
        .product(name: "Fitting", package: headstart), .product(name: "FeatureStore", package: headstart),
      ]),
    .executableTarget(name: "FuzzHeadsYAML", dependencies: ["FuzzDriver", "HeadsFileCheck"]),
    .executableTarget(name: "FuzzHeadsJSON", dependencies: ["FuzzDriver", "HeadsFileCheck"]),
    .executableTarget(
      name: "FuzzArrays", dependencies: ["FuzzDriver", .product(name: "ArrayIO", package: headstart)]),
    .executableTarget(
      name: "FuzzKerasWeights",
      dependencies: [
        "FuzzDriver", .product(name: "Extraction", package: headstart), .product(name: "Backbones", package: headstart),
      ]),
  ]
)
