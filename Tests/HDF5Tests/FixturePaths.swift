import Foundation

/// Tests/Fixtures/weights, found from this file's location so no resources need declaring.
let weightFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("Fixtures/weights")

func fixture(_ name: String) -> String { weightFixtures.appendingPathComponent(name).path }

/// A fresh path in a per-test temporary directory.
func temporaryPath(_ name: String) -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hdf5tests-\(getpid())")
  try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  return dir.appendingPathComponent(name).path
}
