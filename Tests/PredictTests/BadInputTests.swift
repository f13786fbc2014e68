// Every bad input stops the built `predict` before it reads an image: exit code 2, one line on
// stderr starting `predict:`, nothing written. Weights that are not the ones the heads' features
// were made with are the important case: the heads would silently predict nonsense.

import Backbones
import FeatureStore
import Foundation
import Heads
import ToolTesting
import XCTest

final class BadInputTests: XCTestCase {
  func testEachBadInputExitsTwoWithOneLineAndWritesNothing() throws {
    let started = Date()
    let folder = try temporaryFolder(self, "predict-bad")
    let images = folder.appendingPathComponent("images")
    try writeImageFolder(images)
    let empty = folder.appendingPathComponent("empty")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)

    // Real-shaped VGG16 weights (extract's random weights, seed 0) in a Keras 2 file.
    let weightsFile = folder.appendingPathComponent("vgg16.h5").path
    var order: [String] = []
    for spec in parameterSpecs(for: .vgg16) where order.last != spec.layer { order.append(spec.layer) }
    try writeKerasWeights(
      SyntheticWeights.make(.vgg16, seed: 0), layerOrder: order, to: weightsFile, layout: .keras2)
    let sha = try sha256(of: weightsFile)
    // Any other bytes are other weights: the digest is checked before the file is bound (a small
    // file keeps the test fast; hashing 59 MB takes seconds in a debug build).
    let fakeWeights = folder.appendingPathComponent("fake.h5").path
    try Data("other bytes".utf8).write(to: URL(fileURLWithPath: fakeWeights))
    let fakeSHA = try sha256(of: fakeWeights)

    func headsFile(_ name: String, backbone: String, weights: String, sha256: String, width: Int) throws -> String {
      let provenance = FeatureFileAttributes(
        backbone: backbone, weightsFile: weights, weightsSHA256: sha256, height: 32, width: 32,
        interpolation: "nearest", exif: "ignore", taps: [backbone == "vgg16" ? "block5_pool" : "conv5_block3_out"],
        tapWidths: [width], toolVersion: "test")
      let path = folder.appendingPathComponent(name).path
      try handBuiltHeads(provenance: provenance).write(to: path)
      return path
    }
    let otherSHA = String(repeating: "0123456789ab", count: 5) + "cdef"
    let matching = try headsFile(
      "matching.h5", backbone: "vgg16", weights: "/elsewhere/vgg16.h5", sha256: sha, width: 512)
    let otherFile = try headsFile(
      "other-file.h5", backbone: "vgg16", weights: "/m/vgg16.h5", sha256: otherSHA, width: 512)
    let random5 = try headsFile("random5.h5", backbone: "vgg16", weights: "random (seed 5)", sha256: "", width: 512)
    let resnet = try headsFile(
      "resnet.h5", backbone: "resnet50", weights: "/m/resnet.h5", sha256: otherSHA, width: 2048)
    let wrongWidth = try headsFile("wide.h5", backbone: "vgg16", weights: "random (seed 5)", sha256: "", width: 100)
    let unknownBackbone = try headsFile(
      "inception.h5", backbone: "inception_v3", weights: "random (seed 5)", sha256: "", width: 512)
    let featureFile = folder.appendingPathComponent("not-heads.h5").path
    let writer = try FeatureFileWriter(
      path: featureFile,
      attributes: FeatureFileAttributes(
        backbone: "vgg16", weightsFile: "w", weightsSHA256: "", height: 32, width: 32, interpolation: "nearest",
        exif: "ignore", taps: ["block5_pool"], tapWidths: [512], toolVersion: "test"), dimension: 512)
    try writer.finish(paths: [], labels: [], failedPaths: [], failedReasons: [])
    let textFile = folder.appendingPathComponent("text.h5").path
    try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: textFile))

    let output = folder.appendingPathComponent("p.csv").path
    func run(_ heads: String, _ weights: [String], images: [String] = [images.path], output: String = output)
      -> [String]
    {
      ["--heads", heads] + weights + ["--images"] + images + ["--output", output, "--quiet"]
    }
    let cases: [(String, [String], [String])] = [
      (
        "weights file with another SHA-256", run(otherFile, ["--weights", fakeWeights]),
        [String(fakeSHA.prefix(12)), "0123456789ab", "features would differ"]
      ),
      (
        "weights file where the heads had random weights", run(random5, ["--weights", fakeWeights]),
        [String(fakeSHA.prefix(12)), "random (seed 5)", "features would differ"]
      ),
      (
        "random weights where the heads had a file", run(otherFile, ["--weights", "random"]),
        ["--weights random", "0123456789ab", "other features"]
      ),
      (
        "random weights of another seed", run(random5, ["--weights", "random", "--seed", "6"]), ["seed 5", "--seed 6"]
      ),
      (
        "weights of another backbone", run(resnet, ["--weights", weightsFile]),
        ["holds vgg16 weights", "resnet50 features"]
      ),
      ("taps of another width", run(wrongWidth, ["--weights", "random"]), ["[512] wide", "says [100]"]),
      ("unknown backbone", run(unknownBackbone, ["--weights", "random"]), ["inception_v3", "resnet50, vgg16, vgg19"]),
      ("missing heads file", run(folder.appendingPathComponent("nope.h5").path, ["--weights", "random"]), ["nope.h5"]),
      ("a feature file as heads file", run(featureFile, ["--weights", "random"]), ["is not a heads file"]),
      ("not an HDF5 file", run(textFile, ["--weights", "random"]), ["text.h5"]),
      (
        "unknown output extension",
        run(random5, ["--weights", "random"], output: folder.appendingPathComponent("p.txt").path),
        ["unknown extension", ".jsonl"]
      ),
      ("no images", run(random5, ["--weights", "random"], images: [empty.path]), ["holds no files"]),
      ("missing image folder", run(random5, ["--weights", "random"], images: [empty.path + "-nope"]), ["-nope"]),
      ("no --images", ["--heads", random5, "--weights", "random", "--output", output], ["--images"]),
      ("missing weights file", run(matching, ["--weights", weightsFile + "-nope"]), ["-nope"]),
      ("output folder missing", run(random5, ["--weights", "random"], output: "/nonexistent/p.csv"), ["/nonexistent"]),
    ]
    print(String(format: "setup: %.1f s", Date().timeIntervalSince(started)))
    for (name, arguments, phrases) in cases {
      let caseStarted = Date()
      let result = try runTool("predict", arguments)
      XCTAssertEqual(result.status, 2, "\(name): \(result.stderr)")
      let lines = result.stderr.split(separator: "\n")
      XCTAssertEqual(lines.count, 1, "\(name): \(result.stderr)")
      XCTAssertTrue(result.stderr.hasPrefix("headstart predict: "), "\(name): \(result.stderr)")
      for phrase in phrases {
        XCTAssertTrue(result.stderr.contains(phrase), "\(name): '\(phrase)' not in \(result.stderr)")
      }
      XCTAssertEqual(result.stdout, "", name)
      let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
        $0.hasPrefix("p.")
      }
      XCTAssertEqual(leftovers, [], "\(name) wrote \(leftovers)")
      print(
        String(format: "%.1f s ", Date().timeIntervalSince(caseStarted)) + "\(name): \(result.stderr)", terminator: "")
    }

    // The file the heads' features were made with is accepted (the path may differ, the bytes
    // may not), and gives the same predictions as the same weights generated in memory.
    let fromFile = try runTool("predict", run(matching, ["--weights", weightsFile]))
    XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
    let fromFileText = try String(contentsOfFile: output, encoding: .utf8)
    let generated = try headsFile("generated.h5", backbone: "vgg16", weights: "random (seed 0)", sha256: "", width: 512)
    XCTAssertEqual(try runTool("predict", run(generated, ["--weights", "random"])).status, 0)
    XCTAssertEqual(try String(contentsOfFile: output, encoding: .utf8), fromFileText)
  }
}

/// Hex SHA-256 of a file, through `sha256sum` (the Extraction implementation is what is under test).
private func sha256(of path: String) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
  process.arguments = [path]
  let pipe = Pipe()
  process.standardOutput = pipe
  try process.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return String(String(decoding: data, as: UTF8.self).prefix(64))
}
