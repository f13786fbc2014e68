// Running the built tools as a user would: eight fixture images in two class folders, their
// features from the real `extract` (random ResNet50 weights, 64 x 64 so a debug build is quick)
// and heads from the real `fit-heads`, made once for the whole target.

import Foundation
import ToolTesting
import XCTest

/// The shared inputs: `images/{a,b}/*`, `heads.h5` (softmax head `kind` on column `class`).
final class Workspace: @unchecked Sendable {
  let root: URL
  var images: String { root.appendingPathComponent("images").path }
  var heads: String { root.appendingPathComponent("heads.h5").path }
  var features: String { root.appendingPathComponent("features.h5").path }

  nonisolated(unsafe) static var shared: Workspace?

  static func get() throws -> Workspace {
    if let shared { return shared }
    let workspace = try Workspace()
    shared = workspace
    return workspace
  }

  private init() throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("headstart-finetune-\(UUID().uuidString)")
    let manager = FileManager.default
    let fixtures = fixturesDirectory.appendingPathComponent("images")
    let classes = [
      "a": [
        "astronaut_baseline_q90_256x256.jpg", "chelsea_progressive_300x200.jpg", "coffee_cmyk_240x160.jpg",
        "flower_rgb_240x160.png",
      ],
      "b": [
        "camera_gray_180x180.jpg", "coins_gray_192x152.png", "hubble_rgba_200x174.png", "china_wide_320x100.jpg",
      ],
    ]
    for (name, files) in classes {
      let folder = root.appendingPathComponent("images/\(name)")
      try manager.createDirectory(at: folder, withIntermediateDirectories: true)
      for file in files {
        try manager.copyItem(at: fixtures.appendingPathComponent(file), to: folder.appendingPathComponent(file))
      }
    }
    let features = root.appendingPathComponent("features.h5").path
    let extract = try runTool(
      "extract", ["--images", images, "--output", features, "--weights", "random", "--size", "64x64", "--quiet"])
    guard extract.status == 0 else { throw NSError(domain: "extract: \(extract.stderr)", code: 1) }
    let fit = try runTool(
      "fit-heads",
      [
        "--features", features, "--head", "kind=softmax:class", "--epochs", "3", "--val-split", "0",
        "--output", heads,
      ])
    guard fit.status == 0 else { throw NSError(domain: "fit-heads: \(fit.stderr)", code: 1) }
  }

  /// A fresh folder inside the workspace.
  func folder(_ name: String) throws -> URL {
    let url = root.appendingPathComponent("\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}

/// A parsed CSV (no quoted commas in these files) as rows of column -> cell.
func csvRows(_ path: String) throws -> [[String: String]] {
  let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
    $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
  }
  guard let header = lines.first else { return [] }
  return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0).map { ($0, $1) }) }
}
