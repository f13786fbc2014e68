// Bad input never stops the night; bad arguments get one line, exit code 2, and nothing written.

import FeatureStore
import Foundation
import ToolTesting
import XCTest

final class BadInputTests: XCTestCase {
  private func goodImages() -> [URL] {
    let folder = repositoryRoot.appendingPathComponent("Datasets/sample/images")
    return listing(folder).filter { $0.hasSuffix(".jpg") }.prefix(3).map { folder.appendingPathComponent($0) }
  }

  /// A PNG whose header claims 20000 x 20000 pixels (400 M, over Pillow's limit), nothing after.
  private func oversizedPNG() -> Data {
    var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    let ihdr: [UInt8] = Array("IHDR".utf8) + [0, 0, 0x4E, 0x20, 0, 0, 0x4E, 0x20, 8, 2, 0, 0, 0]
    bytes += [0, 0, 0, 13] + ihdr
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in ihdr {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }
    crc ^= 0xFFFF_FFFF
    bytes += [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)]
    return Data(bytes)
  }

  func testBadFilesAreRecordedAndTheRunGoesOn() throws {
    let folder = try temporaryFolder(self, "bad")
    let images = folder.appendingPathComponent("images")
    try copy(goodImages(), into: images)
    let jpeg = try Data(contentsOf: goodImages().first { $0.pathExtension == "jpg" } ?? goodImages()[0])
    let bad: [String: Data] = [
      "bad_empty.jpg": Data(),
      "bad_truncated.jpg": jpeg.prefix(jpeg.count / 3),
      "bad_text.jpg": Data("this is not an image\n".utf8),
      "bad_oversized.png": oversizedPNG(),
      "bad_corrupt.png": {
        var png = oversizedPNG()
        png[png.count - 1] ^= 0xFF  // IHDR CRC no longer matches
        return png
      }(),
    ]
    for (name, data) in bad { try data.write(to: images.appendingPathComponent(name)) }
    let output = folder.appendingPathComponent("f.h5")
    let result = try runExtract([
      "--images", images.path, "--output", output.path, "--weights", "random", "--size", "64x64", "--quiet",
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(result.stdout.contains("5 failed"), result.stdout)
    XCTAssertTrue(result.stderr.contains("warning: 5 image(s) could not be used"), result.stderr)
    let file = try FeatureFile.read(path: output.path)
    XCTAssertEqual(file.paths.count, 3)
    XCTAssertEqual(file.failedPaths, bad.keys.sorted())
    let reasons = Dictionary(uniqueKeysWithValues: zip(file.failedPaths, file.failedReasons))
    print("failure reasons:", reasons)
    XCTAssertTrue(reasons["bad_empty.jpg"]!.lowercased().contains("empty"))
    XCTAssertTrue(reasons["bad_truncated.jpg"]!.lowercased().contains("truncated"))
    XCTAssertTrue(reasons["bad_text.jpg"]!.contains("not an image Headstart reads"))
    XCTAssertTrue(
      reasons["bad_oversized.png"]!.contains("178956970") || reasons["bad_oversized.png"]!.contains("178,956,970"))
    XCTAssertFalse(reasons["bad_corrupt.png"]!.isEmpty)
  }

  /// Each bad argument: exit code 2, a single line naming the problem, no file created.
  /// BMP and PNM files are rows like JPEGs, whatever their names say (Keras' flow_from_directory
  /// would skip a .pgm, Headstart reads by content); broken ones are recorded with a reason.
  func testBMPAndPNMFilesAreReadAndBrokenOnesRecorded() throws {
    let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures/pillow/formats")
    let images = try temporaryFolder(self, "formats").appendingPathComponent("images")
    let files = [
      ("src/rgb24.bmp", "a.bmp"), ("src/rle8.bmp", "b.bmp"), ("src/p6.ppm", "c.ppm"), ("src/p2.pgm", "d.pgm"),
      ("src/p4.pbm", "e.pbm"), ("src/p5.pgm", "f.pnm"), ("src/bw_palette8.bmp", "g.jpg"),
      ("bad/rle8_cut.bmp", "x.bmp"), ("bad/p6_truncated_455.ppm", "y.ppm"),
    ]
    try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
    for (source, name) in files {
      try FileManager.default.copyItem(
        at: fixtures.appendingPathComponent(source), to: images.appendingPathComponent(name))
    }
    let output = images.deletingLastPathComponent().appendingPathComponent("f.h5")
    let result = try runExtract([
      "--images", images.path, "--output", output.path, "--weights", "random", "--size", "32x32", "--quiet",
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    let file = try FeatureFile.read(path: output.path)
    XCTAssertEqual(file.paths, ["a.bmp", "b.bmp", "c.ppm", "d.pgm", "e.pbm", "f.pnm", "g.jpg"])
    XCTAssertEqual(file.failedPaths, ["x.bmp", "y.ppm"])
    XCTAssertEqual(
      file.failedReasons.map { $0.hasPrefix("truncated BMP") || $0.hasPrefix("truncated PNM") }, [true, true])
  }

  func testBadArgumentsExitTwoWithOneLineAndWriteNothing() throws {
    let folder = try temporaryFolder(self, "args")
    let images = folder.appendingPathComponent("images")
    try copy(goodImages(), into: images)
    let output = folder.appendingPathComponent("out/f.h5")
    try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
    let notWeights = folder.appendingPathComponent("weights.h5")
    try Data("not hdf5".utf8).write(to: notWeights)
    let base = ["--images", images.path, "--output", output.path]
    let cases: [(String, [String], String)] = [
      ("unknown backbone", base + ["--backbone", "resnet51", "--weights", "random"], "resnet51"),
      ("unknown tap", base + ["--taps", "conv9_block1_out", "--weights", "random"], "conv9_block1_out"),
      ("missing folder", ["--images", images.path + "-nope", "--output", output.path, "--weights", "random"], "nope"),
      ("unreadable weights", base + ["--weights", notWeights.path], "weights.h5"),
      ("missing weights", base + ["--weights", folder.appendingPathComponent("none.h5").path], "none.h5"),
      ("default weights absent", base, "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"),
      (
        "unwritable output", ["--images", images.path, "--output", "/proc/nope/f.h5", "--weights", "random"],
        "/proc/nope"
      ),
      ("bad size", base + ["--size", "224", "--weights", "random"], "--size"),
      (
        "too small", base + ["--size", "16x16", "--weights", "random"],
        "16x16 is too small; height and width must be 32 to 16384"
      ),
      (
        "too large", base + ["--size", "99999999999x64", "--weights", "random"],
        "is too large; height and width must be 32 to 16384"
      ),
    ]
    for (label, arguments, mention) in cases {
      let result = try runExtract(arguments, environment: ["KERAS_HOME": folder.appendingPathComponent("keras").path])
      XCTAssertEqual(result.status, 2, "\(label): \(result.stderr)")
      let lines = result.stderr.split(separator: "\n")
      XCTAssertEqual(lines.count, 1, "\(label): \(result.stderr)")
      XCTAssertTrue(result.stderr.contains(mention), "\(label): \(result.stderr)")
      XCTAssertEqual(listing(output.deletingLastPathComponent()), [], "\(label) wrote something")
    }
  }
}
