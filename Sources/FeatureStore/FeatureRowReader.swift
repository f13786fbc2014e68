// Reading a feature file's rows a range at a time, for files larger than the memory one wants
// to spend on them: `FeatureFile.read(path:features: false)` gives everything else, this the
// rows of /features (N, D) on demand. Reads of whole HDF5 chunks (about 1 MiB of rows, see
// FeatureFileSchema.swift) cost the same as reading them as part of the whole dataset.
import HDF5

/// An open feature file's /features (N, D), read by row range.
public final class FeatureRowReader {
  public let path: String
  /// N.
  public let rowCount: Int
  /// D.
  public let dimension: Int
  private let file: HDF5File
  private let dataset: HDF5Dataset

  /// Opens the feature file at `path` (a Headstart feature file; see `FeatureFile.read`).
  public init(path: String) throws {
    do {
      file = try HDF5File.open(path: path)
    } catch let error as HDF5Error {
      throw FeatureFileError(path: path, problem: "cannot be opened: \(error.reason)")
    }
    do {
      guard try file.exists(DatasetName.features) else {
        throw FeatureFileError(path: path, problem: "is an HDF5 file but not a Headstart feature file")
      }
      dataset = try file.openDataset(DatasetName.features)
      let shape = try dataset.shape()
      guard shape.count == 2 else {
        throw FeatureFileError(path: path, problem: "/features has shape \(shape), expected (N, D)")
      }
      rowCount = shape[0]
      dimension = shape[1]
    } catch {
      try? file.close()
      throw error
    }
    self.path = path
  }

  deinit { try? file.close() }

  /// Reads rows `rows` into `buffer` (rows.count x D, row-major).
  public func read(rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
    do {
      try dataset.readRows(rows, into: buffer)
    } catch let error as HDF5Error {
      throw FeatureFileError(path: path, problem: "cannot read /features rows \(rows): \(error.reason)")
    }
  }
}
