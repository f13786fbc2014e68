// Images given as an array instead of a folder: what `keras.datasets` returns
// (`(x_train, y_train), _ = cifar10.load_data()`, saved with `np.savez(path, x=x_train, y=y_train)`),
// a `.npy` of images, or an HDF5 dataset. The rules, each stated once here:
//
//  * `--array FILE[:NAME]`: the images are array NAME (default `x`) of a `.npz` or HDF5 file, or
//    the one array of a `.npy` (no NAME). A FILE that exists as given is taken whole, so a
//    path containing ':' still works.
//  * Images are uint8 (N, H, W, 3) RGB or (N, H, W) gray; gray is replicated to RGB, as
//    Pillow's convert('RGB') does for mode 'L'.
//  * Row i is named `NAME[i]` with i zero-padded to at least six digits (`x[000123]`), more
//    when the array has a million rows or more, so the names sort bytewise in row order: the
//    feature file's /paths, predict's rows, merge and fit-heads --labels all join on them.
//  * Labels (`LabelColumn` "class", as folder input): the array `--array-labels NAME`, or by
//    default the images' name with its leading `x` turned into `y` (x -> y, x_train -> y_train,
//    /train/x -> /train/y) when the file has it. Integers (N) or (N, 1) are class indices;
//    (N, C) with C >= 2 is one-hot (keras.utils.to_categorical's float32 too). Class k is
//    named by `--class-names`' k-th name, or "k"; classes are kept in index order (not sorted
//    as text), so class k is index k, as in the user's Keras model.

import ArrayIO
import FeatureStore
import Foundation
import ImageIO

/// `--array`, `--array-labels` and `--class-names`, as the tool's options give them.
public struct ArrayInput: Equatable, Sendable {
  /// `FILE` or `FILE:NAME`.
  public var location: String
  /// The labels array's name; nil: the default rule (x -> y) if the file has it.
  public var labels: String?
  /// Names of classes 0, 1, ...; nil: the class index as its name.
  public var classNames: [String]?

  public init(location: String, labels: String? = nil, classNames: [String]? = nil) {
    self.location = location
    self.labels = labels
    self.classNames = classNames
  }

  /// The file and the array name in `location`.
  var fileAndName: (file: String, name: String?) {
    if FileManager.default.fileExists(atPath: location) { return (location, nil) }
    guard let colon = location.lastIndex(of: ":") else { return (location, nil) }
    let name = String(location[location.index(after: colon)...])
    return (String(location[..<colon]), name.isEmpty ? nil : name)
  }

  /// The default labels array for images named `name`: its last component's leading `x` as `y`.
  static func defaultLabelsName(for name: String) -> String? {
    let slash = name.lastIndex(of: "/").map { name.index(after: $0) } ?? name.startIndex
    guard name[slash...].hasPrefix("x") else { return nil }
    return String(name[..<slash]) + "y" + name[name.index(after: slash)...]
  }
}

/// The images of an array input, read a batch of rows at a time.
public final class ArrayImages: Sendable {
  /// The uint8 images, (N, H, W) or (N, H, W, 3).
  public let array: NumericArray
  public let height: Int
  public let width: Int
  /// 1 (gray, replicated to RGB) or 3.
  public let channels: Int
  /// Row names' stem: the array's name (its last path component), `x` for a `.npy`.
  public let stem: String
  /// `file` or `file:name`, for messages and the journal's settings.
  public var name: String { array.name }

  init(array: NumericArray, stem: String) throws {
    guard array.element == .unsigned(bytes: 1) else {
      throw ExtractError.usage(
        "--array \(array.name): images must be uint8, this array is \(array.element) (x.astype('uint8') if its "
          + "values are 0...255)")
    }
    let shape = array.shape
    guard shape.count == 4 && shape[3] == 3 || shape.count == 3 else {
      throw ExtractError.usage(
        "--array \(array.name): images must have shape (N, H, W, 3) or (N, H, W) (gray), this array has "
          + "\(shape)")
    }
    guard shape[0] > 0, shape[1] > 0, shape[2] > 0 else {
      throw ExtractError.usage("--array \(array.name): shape \(shape) holds no image")
    }
    self.array = array
    height = shape[1]
    width = shape[2]
    channels = shape.count == 4 ? 3 : 1
    self.stem = stem
  }

  public var rowCount: Int { array.rowCount }

  /// The names of all rows, in row order (which is their bytewise order).
  public var rowNames: [String] {
    let digits = max(6, String(max(0, rowCount - 1)).count)
    return (0..<rowCount).map { row in
      let number = String(row)
      return stem + "[" + String(repeating: "0", count: digits - number.count) + number + "]"
    }
  }

  /// "6 images 32x32x3 uint8" for the journal's settings.
  var shapeDescription: String { "\(rowCount) images \(height)x\(width)x\(channels) uint8" }

  /// Rows `rows` as RGB images, gray replicated as convert('RGB') does.
  func images(rows: Range<Int>) throws(ArrayError) -> [RGBImage] {
    let bytes = try array.bytes(rows: rows)
    let pixels = height * width
    return (0..<rows.count).map { i in
      if channels == 3 {
        return RGBImage(width: width, height: height, pixels: Array(bytes[(i * pixels * 3)..<((i + 1) * pixels * 3)]))
      }
      var rgb = [UInt8](repeating: 0, count: pixels * 3)
      for p in 0..<pixels {
        let value = bytes[i * pixels + p]
        rgb[3 * p] = value
        rgb[3 * p + 1] = value
        rgb[3 * p + 2] = value
      }
      return RGBImage(width: width, height: height, pixels: rgb)
    }
  }
}

/// An opened array input: its images, and its label column if it has labels.
public struct ArrayDataset: Sendable {
  public var images: ArrayImages
  /// The rows' names and labels, as a folder's dataset.
  public var dataset: Dataset
  /// The labels array's name and kind, for the journal's settings ("none" without labels).
  var labelsDescription: String
  /// The file (absolute) and the images' name, for the journal's settings.
  var settingDescription: String

  /// Opens `input`, checks the images and labels (every problem a `.usage` error naming the file),
  /// and names the rows. `withLabels` false (predict) ignores labels.
  public static func open(_ input: ArrayInput, withLabels: Bool = true) throws -> ArrayDataset {
    do {
      let (path, name) = input.fileAndName
      let file = try ArrayFile(path: path)
      let images = try ArrayImages(array: try file.array(name), stem: stemName(name))
      let paths = images.rowNames
      let setting = URL(fileURLWithPath: path).standardizedFileURL.path + ":" + (name ?? "")
      guard withLabels else {
        return ArrayDataset(
          images: images, dataset: Dataset(paths: paths, labels: [], missing: []), labelsDescription: "none",
          settingDescription: setting)
      }
      let labelsName =
        input.labels
        ?? (file.container == .npy
          ? nil
          : ArrayInput.defaultLabelsName(for: name ?? "x").flatMap {
            file.contains($0) ? $0 : nil
          })
      guard let labelsName else {
        if input.classNames != nil {
          throw ExtractError.usage(
            "--class-names: \(path) has no labels array" + (file.container == .npy ? " (a .npy holds only images)" : "")
              + "; name one with --array-labels")
        }
        return ArrayDataset(
          images: images, dataset: Dataset(paths: paths, labels: [], missing: []), labelsDescription: "none",
          settingDescription: setting)
      }
      if file.container == .npy {
        throw ExtractError.usage("--array-labels: \(path) is a .npy file, which holds only the images")
      }
      let labels = try file.array(labelsName)
      let column = try classColumn(labels, rows: images.rowCount, classNames: input.classNames)
      let description =
        "\(labelsName) \(labels.shape)" + (input.classNames.map { " classes " + $0.joined(separator: ",") } ?? "")
      return ArrayDataset(
        images: images, dataset: Dataset(paths: paths, labels: [column], missing: []), labelsDescription: description,
        settingDescription: setting)
    } catch let error as ArrayError {
      throw ExtractError.usage("--array: \(error.description)")
    }
  }

  /// The images' name's last component (`x` for a `.npy` or no name), the stem of row names.
  static func stemName(_ name: String?) -> String {
    guard let name, let last = name.split(separator: "/").last else { return "x" }
    return String(last)
  }

  /// Class indices from integer labels (N) / (N, 1) or one-hot (N, C), read in slices.
  static func classColumn(_ labels: NumericArray, rows: Int, classNames: [String]?) throws -> LabelColumn {
    let shape = labels.shape
    guard shape.first == rows, shape.count == 1 || shape.count == 2 else {
      throw ExtractError.usage(
        "--array \(labels.name): labels must have shape (\(rows)), (\(rows), 1) or (\(rows), classes) to match "
          + "the \(rows) images, this array has \(shape)")
    }
    if let classNames {
      guard Set(classNames).count == classNames.count, !classNames.contains(where: \.isEmpty) else {
        throw ExtractError.usage("--class-names: names must be distinct and not empty")
      }
    }
    let oneHot = shape.count == 2 && shape[1] >= 2
    let columns = shape.count == 2 ? shape[1] : 1
    guard !oneHot || columns <= Int(Int32.max) else {
      throw ExtractError.usage("--array \(labels.name): too many classes")
    }
    var indices: [Int32] = []
    indices.reserveCapacity(rows)
    var start = 0
    while start < rows {
      let end = min(rows, start + max(1, 1 << 20 / columns))
      let values = try labels.numbers(rows: start..<end)
      for row in start..<end {
        let cells = values[((row - start) * columns)..<((row - start + 1) * columns)]
        if oneHot {
          let hot = cells.indices.filter { cells[$0] != 0 }
          guard hot.count == 1, cells[hot[0]] == 1 else {
            throw ExtractError.usage(
              "--array \(labels.name): row \(row) is not one-hot (exactly one 1, the rest 0)")
          }
          indices.append(Int32(hot[0] - cells.startIndex))
        } else {
          let value = cells[cells.startIndex]
          guard value >= 0, value < Double(Int32.max), value == value.rounded() else {
            throw ExtractError.usage(
              "--array \(labels.name): row \(row) has label \(value); labels must be class indices 0, 1, ...")
          }
          indices.append(Int32(value))
        }
      }
      start = end
    }
    let count = oneHot ? columns : Int(indices.max() ?? -1) + 1
    if let classNames {
      guard oneHot ? classNames.count == count : classNames.count >= count else {
        throw ExtractError.usage(
          "--class-names gives \(classNames.count) names, the labels have \(count) classes"
            + (oneHot ? "" : " (0...\(count - 1))"))
      }
      return .categorical(name: "class", classes: classNames, indices: indices)
    }
    return .categorical(name: "class", classes: (0..<count).map(String.init), indices: indices)
  }
}
