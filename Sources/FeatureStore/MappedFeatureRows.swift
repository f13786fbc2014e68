// A feature file's rows used where they are: the file mapped into memory read-only, each row a
// pointer into it. Reading a 160 MB matrix through HDF5 copied it twice (into HDF5's chunk
// buffer, then into ours) and took 40,000 page faults to back the copy, ~90 ms of a 0.6 s
// `fit-heads` run; mapping the file (every page at once) costs ~15 ms and its pages are the
// page cache's own.
// Possible when HDF5 stores the rows as they are in memory (HDF5Dataset.rowBlocks); otherwise
// the caller reads the matrix as before. HDF5 verifies the Fletcher-32 checksums of what it
// reads; rows used in place are verified here instead, every chunk once when the file is mapped
// (HDF5's own definition recomputed, on the cores the command uses), so a corrupt file is
// refused before training starts.
import HDF5

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The rows of a feature file's /features (N, D), in place in the mapped file. The pointers
/// stay valid as long as this object lives. The file must not be truncated meanwhile (reading
/// a mapped page past a file's new end is a bus error, not an error value).
public final class MappedFeatureRows: @unchecked Sendable {
  /// N.
  public let rowCount: Int
  /// D.
  public let dimension: Int
  private let base: UnsafeMutableRawPointer
  private let length: Int
  /// Byte offset of every row in the file.
  private let offsets: [Int]

  /// Maps the feature file at `path`, or returns nil when its rows cannot be used in place (or
  /// mapping fails): read them with `FeatureRowReader` then. The checksums are verified on
  /// `threads` threads.
  public init?(path: String, threads: Int = 1) throws {
    let blocks: [HDF5RowBlock]
    let datasetPath: String
    do {
      let file = try HDF5File.open(path: path)
      defer { try? file.close() }
      let dataset = try file.openDataset(DatasetName.features)
      guard let found = try dataset.rowBlocks() else { return nil }
      blocks = found
      datasetPath = dataset.path
      let shape = try dataset.shape()
      (rowCount, dimension) = (shape[0], shape[1])
    } catch let error as HDF5Error {
      throw FeatureFileError(path: path, problem: "cannot be read: \(error.reason)")
    }
    let rowBytes = dimension * MemoryLayout<Float>.size
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    let size = Int(lseek(descriptor, 0, SEEK_END))
    // Every block's bytes (with its checksum) in the file; a shorter file is left to HDF5 to report.
    let ends = blocks.map { $0.fileOffset + ($0.checksummedBytes.map { $0 + 4 } ?? $0.rowCount * rowBytes) }
    guard size > 0, ends.allSatisfy({ $0 <= size }) else { return nil }
    // Every page is mapped before training starts: left to the first touch, the training
    // threads took ~15,000 faults in their first epoch and contended for the page-table lock
    // doing so. Verifying the checksums reads every checksummed block, on `threads` threads,
    // and so maps their pages in parallel (18 ms for 160 MB on two Zen 3 cores, against 31 ms
    // for MAP_POPULATE then one verifying thread); blocks without a checksum (older files) are
    // mapped with the file at once (MAP_POPULATE).
    #if os(Linux)
      let flags = blocks.allSatisfy({ $0.checksummedBytes != nil }) ? MAP_PRIVATE : MAP_PRIVATE | MAP_POPULATE
    #else
      let flags = MAP_PRIVATE
    #endif
    guard let mapped = mmap(nil, size, PROT_READ, flags, descriptor, 0), mapped != MAP_FAILED else {
      return nil
    }
    do {
      try verifyChecksums(
        of: blocks, in: UnsafeRawBufferPointer(start: mapped, count: size), fileName: path, dataset: datasetPath,
        threads: threads)
    } catch {
      munmap(mapped, size)
      throw error
    }
    base = mapped
    length = size
    var offsets = [Int]()
    offsets.reserveCapacity(rowCount)
    for block in blocks {
      for r in 0..<block.rowCount { offsets.append(block.fileOffset + r * rowBytes) }
    }
    self.offsets = offsets
  }

  deinit { munmap(base, length) }

  /// Row `r`'s D features.
  @inline(__always)
  public func row(_ r: Int) -> UnsafePointer<Float> {
    UnsafeRawPointer(base + offsets[r]).assumingMemoryBound(to: Float.self)
  }
}
