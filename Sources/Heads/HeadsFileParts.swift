// Pieces of the heads file: the feature provenance (the feature file's attribute names, but
// its tool_version is features_tool_version: the heads file has its own) and the optimizer's JSON string.

import FeatureStore
import Foundation
import HDF5

/// Copies the feature file's provenance onto the heads file's root, under the same names.
func writeProvenance(_ a: FeatureFileAttributes, to file: HDF5File) throws {
  try file.setAttribute("backbone", string: a.backbone)
  try file.setAttribute("weights_file", string: a.weightsFile)
  try file.setAttribute("weights_sha256", string: a.weightsSHA256)
  try file.setAttribute("height", int: a.height)
  try file.setAttribute("width", int: a.width)
  try file.setAttribute("interpolation", string: a.interpolation)
  try file.setAttribute("preprocessing", string: a.preprocessing)
  try file.setAttribute("exif", string: a.exif)
  try file.setAttribute("taps", strings: a.taps)
  try file.setAttribute("tap_widths", ints: a.tapWidths)
  try file.setAttribute("normalization", string: a.normalization)
  try file.setAttribute("features_tool_version", string: a.toolVersion)
  if let warning = a.warning { try file.setAttribute("warning", string: warning) }
}

func readProvenance(_ file: HDF5File) throws -> FeatureFileAttributes {
  FeatureFileAttributes(
    backbone: try file.stringAttribute("backbone"),
    weightsFile: try file.stringAttribute("weights_file"),
    weightsSHA256: try file.stringAttribute("weights_sha256"),
    height: try file.intAttribute("height"),
    width: try file.intAttribute("width"),
    interpolation: try file.stringAttribute("interpolation"),
    preprocessing: try file.stringAttribute("preprocessing"),
    exif: try file.stringAttribute("exif"),
    taps: try file.stringsAttribute("taps"),
    tapWidths: try file.intsAttribute("tap_widths"),
    normalization: try file.stringAttribute("normalization"),
    toolVersion: try file.stringAttribute("features_tool_version"),
    warning: try file.hasAttribute("warning") ? try file.stringAttribute("warning") : nil)
}

/// `{"name": "adam", "beta_1": 0.9, ...}` with keys sorted, so the bytes are deterministic.
/// Swift's `description` of a Double is the shortest text that reads back to the same value.
func optimizerJSON(name: String, settings: [String: Double]) -> String {
  func quoted(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }
  let members = settings.keys.sorted().map { "\(quoted($0)): \(settings[$0]!.description)" }
  return "{" + ([quoted("name") + ": " + quoted(name)] + members).joined(separator: ", ") + "}"
}

func parseOptimizerJSON(
  _ text: String, fail: (String) -> HeadsFileError
) throws -> (name: String, settings: [String: Double]) {
  let object = try? JSONSerialization.jsonObject(with: Data(text.utf8))
  guard let members = object as? [String: Any], let name = members["name"] as? String else {
    throw fail("has an optimizer attribute that is not a JSON object with a name: \(text)")
  }
  var settings: [String: Double] = [:]
  for (key, value) in members where key != "name" {
    guard let number = value as? NSNumber else {
      throw fail("has optimizer setting \"\(key)\" that is not a number: \(text)")
    }
    settings[key] = number.doubleValue
  }
  return (name, settings)
}
