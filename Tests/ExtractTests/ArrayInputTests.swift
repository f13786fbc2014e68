// `extract --array`, end to end through the built `headstart`: the features Keras computes for
// the same arrays (Tests/Fixtures/make_array_fixtures.py), the same file from every container
// (.npz stored or deflated, .npy, HDF5), labels as indices or one-hot, gray arrays, malformed
// arrays refused with nothing written, shards, and a killed run resumed.

import ArrayIO
import FeatureStore
import Foundation
import HDF5
import ToolTesting
import XCTest

private struct ArrayManifest: Decodable {
  struct Case: Decodable {
    var name: String
    var backbone: String
    var height: Int
    var width: Int
    var interpolation: String?
    var rows: Int
    var dim: Int
    var file: String
  }
  var taps: [String]
  var cases: [Case]
}

final class ArrayInputTests: XCTestCase {
  private let stored = fixturesDirectory.appendingPathComponent("arrays/cifar_like.npz")
  private let compressed = fixturesDirectory.appendingPathComponent("arrays/cifar_like_compressed.npz")
  /// The fixture's features are made with the synthetic seed-0 weights, which
  /// `--weights random --seed 0` generates (Docs/keras-parity.md).
  private let network = [
    "--backbone", "vgg16", "--weights", "random", "--seed", "0", "--taps", "block1_pool,block5_pool", "--quiet",
  ]

  private func extract(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> FeatureFile
  {
    let output = try XCTUnwrap(arguments.firstIndex(of: "--output").map { arguments[$0 + 1] })
    let result = try runExtract(arguments)
    XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
    return try FeatureFile.read(path: output)
  }

  /// The fixture's images, read back: (6, 32, 32, 3) uint8.
  private func fixtureImages() throws -> [UInt8] {
    try ArrayFile(path: stored.path).array("x").bytes(rows: 0..<6)
  }

  func testFeaturesMatchKerasAtTheImagesSizeAndResized() throws {
    let manifest = try JSONDecoder().decode(
      ArrayManifest.self, from: Data(contentsOf: fixturesDirectory.appendingPathComponent("arrays/manifest.json")))
    let folder = try temporaryFolder(self, "array-parity")
    for testCase in manifest.cases {
      var arguments = ["--array", compressed.path, "--output", folder.appendingPathComponent(testCase.name).path]
      arguments += ["--backbone", testCase.backbone, "--batch-size", "4"]
      arguments += ["--weights", "random", "--seed", "0", "--taps", manifest.taps.joined(separator: ","), "--quiet"]
      if let interpolation = testCase.interpolation {
        arguments += ["--size", "\(testCase.height)x\(testCase.width)", "--interpolation", interpolation]
      }
      let file = try extract(arguments)
      XCTAssertEqual(file.attributes.height, testCase.height)
      XCTAssertEqual(file.attributes.width, testCase.width)
      XCTAssertEqual(file.paths, (0..<6).map { "x[00000\($0)]" })
      XCTAssertEqual(
        file.labels, [.categorical(name: "class", classes: ["0", "1", "2", "3"], indices: [3, 0, 1, 3, 2, 0])])
      let expected = try Data(contentsOf: fixturesDirectory.appendingPathComponent(testCase.file))
      XCTAssertEqual(expected.count, testCase.rows * testCase.dim * 4)
      XCTAssertEqual(file.features.count, testCase.rows * testCase.dim)
      let keras = expected.withUnsafeBytes { raw in
        (0..<(testCase.rows * testCase.dim)).map {
          Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
        }
      }
      let worst = zip(file.features, keras).map { abs($0 - $1) }.max() ?? .nan
      print("array parity \(testCase.name): max |ours - keras| = \(worst)")
      XCTAssertLessThanOrEqual(worst, KerasParityTests.tolerance, testCase.name)
    }
  }

  /// One dataset in every container gives the same file: stored and deflated .npz, a .npy, and
  /// HDF5 datasets (labels from the sibling `y`).
  func testEveryContainerGivesTheSameFile() throws {
    let folder = try temporaryFolder(self, "array-containers")
    let images = try fixtureImages()
    let npy = folder.appendingPathComponent("x.npy")
    try writeNpy(images, shape: [6, 32, 32, 3], to: npy)
    let h5 = folder.appendingPathComponent("cifar.h5")
    try HDF5File.withNewFile(h5.path) { file in
      try file.createDataset("train/x", bytes: images, shape: [6, 32, 32, 3])
      try file.createDataset("train/y", bytes: [3, 0, 1, 3, 2, 0], shape: [6, 1])
    }
    func run(_ input: String, _ name: String) throws -> FeatureFile {
      try extract(
        ["--array", input, "--output", folder.appendingPathComponent(name).path, "--batch-size", "4"] + network)
    }
    let reference = try run(stored.path, "stored.h5")
    XCTAssertEqual(reference.rowCount, 6)
    for (input, name) in [(compressed.path + ":x", "deflated.h5"), (h5.path + ":train/x", "hdf5.h5")] {
      let file = try run(input, name)
      XCTAssertEqual(file.features, reference.features, name)
      XCTAssertEqual(file.paths, reference.paths, name)
      XCTAssertEqual(file.labels, reference.labels, name)
      XCTAssertEqual(file.attributes, reference.attributes, name)
    }
    let plain = try run(npy.path, "npy.h5")
    XCTAssertEqual(plain.features, reference.features)
    XCTAssertEqual(plain.paths, reference.paths)
    XCTAssertEqual(plain.labels, [], "a .npy holds no labels")
  }

  func testOneHotLabelsAndClassNames() throws {
    let folder = try temporaryFolder(self, "array-labels")
    let names = ["airplane", "automobile", "bird", "cat"]
    let common = ["--class-names", names.joined(separator: ","), "--batch-size", "6"] + network
    let indices = try extract(
      ["--array", stored.path, "--output", folder.appendingPathComponent("a.h5").path] + common)
    let oneHot = try extract(
      [
        "--array", compressed.path, "--array-labels", "y_onehot", "--output",
        folder.appendingPathComponent("b.h5").path,
      ]
        + common)
    let expected = LabelColumn.categorical(name: "class", classes: names, indices: [3, 0, 1, 3, 2, 0])
    XCTAssertEqual(indices.labels, [expected])
    XCTAssertEqual(oneHot.labels, [expected])
    XCTAssertEqual(oneHot.features, indices.features)
    // More classes than names, or a one-hot width that differs from them, is refused.
    for (labels, classNames) in [("y", "a,b,c"), ("y_onehot", "a,b,c,d,e")] {
      let result = try runExtract(
        [
          "--array", stored.path, "--array-labels", labels, "--class-names", classNames, "--output",
          folder.appendingPathComponent("c.h5").path,
        ] + network)
      XCTAssertEqual(result.status, 2, result.stderr)
      XCTAssertTrue(result.stderr.contains("--class-names gives"), result.stderr)
    }
  }

  /// A gray (N, H, W) array gives what the same images replicated to RGB give, as Pillow's
  /// convert('RGB') replicates mode 'L'; with a resize too.
  func testGrayArraysAreReplicatedToRGB() throws {
    let folder = try temporaryFolder(self, "array-gray")
    let images = try fixtureImages()
    let gray = stride(from: 1, to: images.count, by: 3).map { images[$0] }
    try writeNpy(gray, shape: [6, 32, 32], to: folder.appendingPathComponent("gray.npy"))
    try writeNpy(gray.flatMap { [$0, $0, $0] }, shape: [6, 32, 32, 3], to: folder.appendingPathComponent("rgb.npy"))
    for size in [[], ["--size", "40x36", "--interpolation", "bilinear"]] {
      let a = try extract(
        [
          "--array", folder.appendingPathComponent("gray.npy").path, "--output",
          folder.appendingPathComponent("g.h5").path,
          "--overwrite",
        ] + size + network)
      let b = try extract(
        [
          "--array", folder.appendingPathComponent("rgb.npy").path, "--output",
          folder.appendingPathComponent("c.h5").path,
          "--overwrite",
        ] + size + network)
      XCTAssertEqual(a.features, b.features, "\(size)")
      XCTAssertNotEqual(
        a.features,
        try extract(
          [
            "--array", stored.path, "--output", folder.appendingPathComponent("x.h5").path,
            "--overwrite",
          ] + size + network
        ).features)
    }
  }

  /// Bad arrays: one line, exit code 2, nothing written.
  func testMalformedArraysAreUsageErrorsAndNothingIsWritten() throws {
    let folder = try temporaryFolder(self, "array-bad")
    let inputs = folder.appendingPathComponent("inputs")
    try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
    let images = try fixtureImages()
    func npy(_ name: String, _ header: String, _ data: [UInt8]) throws -> String {
      let url = inputs.appendingPathComponent(name)
      try Data(npyBytes(header: header, data: data)).write(to: url)
      return url.path
    }
    let truncated = try npy(
      "truncated.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (6, 32, 32, 3), }", Array(images.prefix(9000))
    )
    let floats = try npy(
      "floats.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (6, 32, 32, 3), }",
      [UInt8](repeating: 0, count: 6 * 3072 * 4))
    let rgba = try npy(
      "rgba.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (6, 32, 24, 4), }", Array(images))
    let garbled = try npy("garbled.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (6, 32, 32, 3)", images)
    let small = try npy("small.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (6, 16, 16, 3), }", images)
    let h5 = inputs.appendingPathComponent("labels.h5")
    try HDF5File.withNewFile(h5.path) { file in
      try file.createDataset("x", bytes: images, shape: [6, 32, 32, 3])
      try file.createDataset("y", bytes: [1, 2, 3], shape: [3])
      try file.createDataset("y_negative", int32s: [0, 1, -1, 0, 1, 0], shape: [6])
      try file.createDataset("y_soft", floats: [Float](repeating: 0.25, count: 24), shape: [6, 4])
    }
    var damaged = [UInt8](try Data(contentsOf: compressed))
    damaged[3_000] ^= 0x01
    try Data(damaged).write(to: inputs.appendingPathComponent("damaged.npz"))
    let output = folder.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    let cases: [(String, [String], String)] = [
      ("truncated", ["--array", truncated], "truncated"),
      ("float images", ["--array", floats], "must be uint8"),
      ("four channels", ["--array", rgba], "(N, H, W, 3) or (N, H, W)"),
      ("garbled header", ["--array", garbled], "unreadable .npy header"),
      ("too small for vgg16", ["--array", small], "give --size"),
      ("no such array", ["--array", stored.path + ":x_train"], "holds no array 'x_train'"),
      ("no such file", ["--array", inputs.appendingPathComponent("none.npz").path], "cannot open"),
      ("labels of 3 rows", ["--array", h5.path], "to match the 6 images"),
      ("negative label", ["--array", h5.path, "--array-labels", "y_negative"], "row 2 has label -1"),
      ("not one-hot", ["--array", h5.path, "--array-labels", "y_soft"], "row 0 is not one-hot"),
      ("damaged npz", ["--array", inputs.appendingPathComponent("damaged.npz").path], "damaged"),
      ("labels for a .npy", ["--array", small, "--size", "32x32", "--class-names", "a,b"], "has no labels array"),
      ("array and images", ["--array", stored.path, "--images", inputs.path], "either --images"),
    ]
    for (label, arguments, mention) in cases {
      let result = try runExtract(
        arguments + ["--output", output.appendingPathComponent("f.h5").path] + network)
      XCTAssertEqual(result.status, 2, "\(label): \(result.stderr)")
      XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(label): \(result.stderr)")
      XCTAssertTrue(result.stderr.contains(mention), "\(label): \(result.stderr)")
      XCTAssertEqual(listing(output), [], "\(label) wrote something")
    }
  }

  /// Shards cut the rows; merged, they are the whole run (row names and labels included).
  func testShardsOfAnArrayMergeIntoTheWholeRun() throws {
    let folder = try temporaryFolder(self, "array-shards")
    let common = ["--array", compressed.path, "--batch-size", "2"] + network
    let whole = try extract(common + ["--output", folder.appendingPathComponent("whole.h5").path])
    var parts: [String] = []
    for k in [2, 0, 1] {
      let part = folder.appendingPathComponent("part-\(k).h5").path
      let shard = try extract(common + ["--output", part, "--shard", "\(k)/3"])
      XCTAssertEqual(shard.paths, ["x[00000\(2 * k)]", "x[00000\(2 * k + 1)]"])
      parts.append(part)
    }
    let merged = folder.appendingPathComponent("merged.h5").path
    let merge = try runTool("merge", ["--output", merged, "--quiet"] + parts)
    XCTAssertEqual(merge.status, 0, merge.stderr)
    let file = try FeatureFile.read(path: merged)
    XCTAssertEqual(file.paths, whole.paths)
    XCTAssertEqual(file.labels, whole.labels)
    let worst = zip(file.features, whole.features).map { abs($0 - $1) }.max() ?? .nan
    XCTAssertLessThanOrEqual(worst, 1e-6)
  }

  /// A run over an HDF5 array killed with SIGKILL and run again gives the uninterrupted file.
  func testKilledArrayRunResumesToAnIdenticalFile() throws {
    let folder = try temporaryFolder(self, "array-resume")
    var state: UInt32 = 12_345
    let images = (0..<(96 * 32 * 32 * 3)).map { _ -> UInt8 in
      state = state &* 1_664_525 &+ 1_013_904_223
      return UInt8(truncatingIfNeeded: state >> 24)
    }
    let h5 = folder.appendingPathComponent("big.h5")
    try HDF5File.withNewFile(h5.path) { file in
      try file.createDataset("images", bytes: images, shape: [96, 32, 32, 3])
    }
    func arguments(_ output: URL) -> [String] {
      [
        "--array", h5.path + ":images", "--output", output.path, "--weights", "random", "--seed", "3",
        "--batch-size", "4", "--quiet",
      ]
    }
    let reference = folder.appendingPathComponent("reference.h5")
    XCTAssertEqual(try runExtract(arguments(reference)).status, 0)
    let resumed = folder.appendingPathComponent("resumed.h5")
    let journal = resumed.path + ".partial"
    let running = try startExtract(arguments(resumed))
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline {
      let size = (try? FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int) ?? 0
      if size > 3 * 4 * 2048 * 4 { break }
      usleep(2000)
    }
    kill(running.process.processIdentifier, SIGKILL)
    running.process.waitUntilExit()
    XCTAssertEqual(running.process.terminationReason, .uncaughtSignal, "the run ended before it could be killed")
    XCTAssertFalse(FileManager.default.fileExists(atPath: resumed.path))
    let second = try runExtract(arguments(resumed))
    XCTAssertEqual(second.status, 0, second.stderr)
    XCTAssertTrue(second.stderr.contains("resuming"), second.stderr)
    let a = try FeatureFile.read(path: reference.path)
    let b = try FeatureFile.read(path: resumed.path)
    XCTAssertEqual(b.paths, a.paths)
    XCTAssertEqual(b.paths.first, "images[000000]")
    XCTAssertEqual(b.features, a.features)
    XCTAssertEqual(b.attributes, a.attributes)
  }
}
