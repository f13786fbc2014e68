// Corruption is detected, not used: every dataset Headstart writes carries HDF5's Fletcher-32
// checksum filter where libhdf5 allows it, and a read that meets a chunk whose bytes no longer
// match their checksum fails with an `HDF5ChecksumError` naming the file, the dataset and the
// chunk's rows. h5py and every other HDF5 reader verify the same checksums on their own.
//
// Writing: `checksummedCreationProperties` is the one rule, applied to every dataset
// `HDF5Group` creates. Reading: libhdf5 verifies each chunk on H5Dread and fails; the failure is
// recognised on HDF5's error stack (CShims' hs_error_walker), and the failing chunk is found by
// verifying the chunks' stored bytes with our own Fletcher-32 (Fletcher32.swift). Readers that
// use the stored rows in place verify them with `verifyChecksums` instead.

import CHDF5
import CShims
import Dispatch

/// Stored values that fail their Fletcher-32 checksum: the file changed after it was written (a
/// flipped bit on a disk, a damaged copy), and its values are not used.
public struct HDF5ChecksumError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The file, as given when it was opened.
  public var file: String
  /// The dataset's path inside the file, e.g. "/features".
  public var dataset: String
  /// The rows (along the first dimension) of the chunk that fails, when known.
  public var rows: Range<Int>?

  public init(file: String, dataset: String, rows: Range<Int>?) {
    self.file = file
    self.dataset = dataset
    self.rows = rows
  }

  /// What is wrong, phrased to follow the file's name:
  /// "/features rows 256..<384 fail their checksum (the file is corrupt)".
  public var problem: String {
    let what: String
    switch rows {
    case .some(let rows) where rows.count == 1: what = "\(dataset) row \(rows.lowerBound) fails its checksum"
    case .some(let rows): what = "\(dataset) rows \(rows) fail their checksum"
    case nil: what = "\(dataset) fails its checksum"
    }
    return what + " (the file is corrupt)"
  }

  public var description: String { "\(file): \(problem)" }
}

/// The size a chunk is given when the checksum needs chunks where the writer asked for none:
/// small enough that several fit HDF5's default chunk cache (1 MiB), so that writing a column a
/// part at a time (merge) changes a chunk in memory rather than rereading it for every part.
let checksumChunkBytes = 256 << 10

/// The creation properties of a new dataset: a copy of `base` (close it with H5Pclose) that, when
/// `checksums` is true, adds the Fletcher-32 filter. The filter needs chunked storage: a dataset
/// not chunked already is stored in chunks of whole rows along its first dimension, about
/// `checksumChunkBytes` each. Left without it, because libhdf5 cannot store one for them:
/// variable-length data (strings such as /paths and /failed; libhdf5 refuses any filter on
/// them, "not suitable for filters"), scalars (never chunked) and datasets with no elements that
/// cannot grow (no chunk is ever stored).
func checksummedCreationProperties(
  _ base: hid_t, fileType: hid_t, space: hid_t, checksums: Bool, object: String
) throws -> hid_t {
  let plist = try h5call("copy creation properties for", object) { H5Pcopy(base) }
  do {
    guard checksums, H5Tdetect_class(fileType, H5T_VLEN) <= 0, H5Tis_variable_str(fileType) <= 0 else { return plist }
    if H5Pget_layout(plist) != H5D_CHUNKED {
      let shape = try dataspaceShape(space, object: object)
      guard let rows = shape.first, shape.allSatisfy({ $0 > 0 }) else { return plist }
      let rowBytes = shape.dropFirst().reduce(H5Tget_size(fileType), *)
      let chunk = [min(rows, max(1, checksumChunkBytes / max(1, rowBytes)))] + shape.dropFirst()
      try h5call("set chunk size of", object) { H5Pset_chunk(plist, Int32(chunk.count), chunk.map { hsize_t($0) }) }
    }
    try h5call("add the Fletcher-32 checksum to", object) { H5Pset_fletcher32(plist) }
  } catch {
    H5Pclose(plist)
    throw error
  }
  return plist
}

extension HDF5Dataset {
  /// Whether the dataset's values carry Fletcher-32 checksums (every read then verifies them).
  public func carriesChecksums() throws -> Bool { try filters().contains(H5Z_FILTER_FLETCHER32) }

  /// Runs `read`, an H5Dread of this dataset's `rows` (nil: all of them). A failure HDF5 reports
  /// as a failed Fletcher-32 checksum, of a dataset that has the filter, becomes an
  /// `HDF5ChecksumError` naming the failing chunk's rows.
  func readVerified(_ operation: String, rows: Range<Int>?, _ read: () -> herr_t) throws {
    do {
      try h5call(operation, displayName, read)
    } catch let error as HDF5Error where error.failedChecksum && (try? carriesChecksums()) == true {
      throw HDF5ChecksumError(file: fileName, dataset: path, rows: try? rowsFailingChecksum(within: rows))
    }
  }

  /// The rows of the first chunk (in row order, among those holding `rows`, all when nil) whose
  /// stored bytes fail their checksum; nil when none does, or when the checksum is not the last
  /// filter applied (its 4 bytes then do not end the stored chunk).
  func rowsFailingChecksum(within rows: Range<Int>?) throws -> Range<Int>? {
    guard try filters().last == H5Z_FILTER_FLETCHER32, let chunk = try chunkShape(), let length = try shape().first
    else { return nil }
    for stored in try storedChunks().sorted(by: { $0.origin.lexicographicallyPrecedes($1.origin) })
    where stored.skippedFilters == 0 {
      let chunkRows = stored.origin[0]..<min(length, stored.origin[0] + chunk[0])
      if let rows, !rows.overlaps(chunkRows) { continue }
      var bytes = [UInt8](repeating: 0, count: stored.storedBytes)
      var filterMask: UInt32 = 0
      try h5call("read a stored chunk of", displayName) {
        H5Dread_chunk(id, hs_p_default(), stored.origin.map { hsize_t($0) }, &filterMask, &bytes)
      }
      if !bytes.withUnsafeBytes(chunkChecksumMatches) { return chunkRows }
    }
    return nil
  }
}

/// Verifies the checksums of the checksummed `blocks` of `dataset` against `file`, the whole
/// file's bytes (mapped), and throws an `HDF5ChecksumError` for the first block that fails (or
/// whose chunk does not fit in the file). With `threads` > 1 the blocks are shared out in
/// contiguous runs, each verified on its own thread (reading a mapped file's pages and summing
/// them run at one core's memory speed: 160 MB took about 30 ms on one).
public func verifyChecksums(
  of blocks: [HDF5RowBlock], in file: UnsafeRawBufferPointer, fileName: String, dataset: String, threads: Int = 1
) throws {
  let parts = max(1, min(threads, blocks.count))
  let failures = UnsafeMutableBufferPointer<Int>.allocate(capacity: parts)
  defer { failures.deallocate() }
  failures.initialize(repeating: -1)
  let run = ChecksumRun(blocks: blocks, file: file, failures: failures)
  DispatchQueue.concurrentPerform(iterations: parts) { part in
    run.failures[part] = run.firstFailure((blocks.count * part / parts)..<(blocks.count * (part + 1) / parts)) ?? -1
  }
  if let b = failures.first(where: { $0 >= 0 }) {
    throw HDF5ChecksumError(
      file: fileName, dataset: dataset, rows: blocks[b].firstRow..<(blocks[b].firstRow + blocks[b].rowCount))
  }
}

/// What the verifying threads share: each writes only its own slot of `failures`.
private struct ChecksumRun: @unchecked Sendable {
  let blocks: [HDF5RowBlock]
  let file: UnsafeRawBufferPointer
  let failures: UnsafeMutableBufferPointer<Int>

  /// The first block of `range` that fails, if any.
  func firstFailure(_ range: Range<Int>) -> Int? {
    range.first { b in
      guard let covered = blocks[b].checksummedBytes else { return false }
      let chunk = blocks[b].fileOffset..<(blocks[b].fileOffset + covered + 4)
      return !(chunk.upperBound <= file.count && chunkChecksumMatches(UnsafeRawBufferPointer(rebasing: file[chunk])))
    }
  }
}
