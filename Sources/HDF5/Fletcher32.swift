// Fletcher-32 as HDF5's checksum filter (H5Z_FILTER_FLETCHER32) computes it, written from its
// definition so that a reader using stored chunks in place (MappedFeatureRows) can verify them
// without HDF5 copying every value:
//   * the bytes are read as 16-bit words, each from two bytes in big-endian order (the first
//     byte is the high one) whatever the machine; an odd trailing byte is a word of its own, as
//     its high byte;
//   * sum1 is the sum of the words, sum2 the sum of the running sum1 after each word, both
//     modulo 65535 in one's-complement form: 0 only when every word is 0, otherwise 1...65535 (a
//     nonzero multiple of 65535 gives 65535, not 0);
//   * the checksum is sum2 << 16 | sum1, stored after the chunk's bytes as 4 little-endian bytes.
// libhdf5 also accepts a stored checksum whose two 16-bit halves each have their bytes swapped
// (a form older HDF5 versions wrote); `chunkChecksumMatches` does too.
// FletcherTests checks both functions against the bytes libhdf5 stores.

/// The Fletcher-32 checksum of `bytes`, as HDF5's checksum filter computes it.
///
/// Sixteen words (32 bytes) at a time: lane j keeps the sums of words j, j + 16, j + 32, ... in
/// UInt32, a_j (its words) and b_j (its running a_j after each step). Over T steps a_j stays below
/// T x 65535 and b_j below T(T+1)/2 x 65535 < 2^32 for T <= 360; after each block of at most 360
/// steps (n = 16 T words, word i = 16 t + j) the block's sums are
///   sum of the words             = sum_j a_j
///   sum of the running sums      = sum_i (n - i) w_i = 16 sum_j b_j - sum_j j a_j
/// and the running sum1 before the block adds n x sum1 to sum2.
/// The lanes load the words in the machine's (little-endian) order, v = b0 + 256 b1 instead of
/// w = 256 b0 + b1, and skip the byte swap: 256 v = 256 b0 + 65536 b1 = w (mod 65535), since
/// 65536 = 1, and both sums are linear in the words, so a block's sums times 256 are its sums of w.
public func fletcher32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
  let words = bytes.count / 2
  var sum1: UInt64 = 0  // modulo 65535
  var sum2: UInt64 = 0  // modulo 65535
  var anyNonzero = false
  var word = 0
  #if _endian(little)
    if let base = bytes.baseAddress {
      while words - word >= 16 {
        let steps = min(360, (words - word) / 16)
        var a = SIMD16<UInt32>(repeating: 0)
        var b = SIMD16<UInt32>(repeating: 0)
        var at = base + 2 * word
        for _ in 0..<steps {
          a &+= SIMD16<UInt32>(truncatingIfNeeded: at.loadUnaligned(as: SIMD16<UInt16>.self))
          b &+= a
          at += 32
        }
        var blockSum1: UInt64 = 0
        var lanesSum2: UInt64 = 0
        var weighted: UInt64 = 0  // sum_j j a_j
        for j in 0..<16 {
          blockSum1 += UInt64(a[j])
          lanesSum2 += UInt64(b[j])
          weighted += UInt64(j) * UInt64(a[j])
        }
        let blockSum2 = (16 * lanesSum2 - weighted) % 65535 * 256
        let n = UInt64(steps * 16)
        sum2 = (sum2 + n % 65535 * sum1 + blockSum2) % 65535
        sum1 = (sum1 + blockSum1 % 65535 * 256) % 65535
        anyNonzero = anyNonzero || blockSum1 != 0
        word += steps * 16
      }
    }
  #endif
  // The last words (fewer than 16, or all of them on a big-endian machine) and an odd trailing
  // byte, one at a time.
  for i in word..<words {
    let value = UInt64(bytes[2 * i]) << 8 | UInt64(bytes[2 * i + 1])
    sum1 = (sum1 + value) % 65535
    sum2 = (sum2 + sum1) % 65535
    anyNonzero = anyNonzero || value != 0
  }
  if bytes.count % 2 == 1 {
    let value = UInt64(bytes[bytes.count - 1]) << 8
    sum1 = (sum1 + value) % 65535
    sum2 = (sum2 + sum1) % 65535
    anyNonzero = anyNonzero || value != 0
  }
  guard anyNonzero else { return 0 }
  return UInt32(sum2 == 0 ? 65535 : sum2) << 16 | UInt32(sum1 == 0 ? 65535 : sum1)
}

/// Fletcher-32 one word at a time, each sum folded back into 16 bits with its carry added (one's
/// complement), straight from the definition: the reference `fletcher32` is tested against.
func fletcher32Reference(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
  func fold(_ x: UInt32) -> UInt32 {
    var x = x
    while x > 0xFFFF { x = (x & 0xFFFF) + (x >> 16) }
    return x
  }
  var sum1: UInt32 = 0
  var sum2: UInt32 = 0
  var index = 0
  while index < bytes.count {
    let high = UInt32(bytes[index]) << 8
    let low = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
    sum1 = fold(sum1 + (high | low))
    sum2 = fold(sum2 + sum1)
    index += 2
  }
  return sum2 << 16 | sum1
}

/// Whether `chunk`, a chunk as the checksum filter stores it (its bytes, then their checksum in
/// 4 little-endian bytes), holds the checksum of its bytes.
public func chunkChecksumMatches(_ chunk: UnsafeRawBufferPointer) -> Bool {
  guard chunk.count >= 4 else { return false }
  let computed = fletcher32(UnsafeRawBufferPointer(rebasing: chunk[..<(chunk.count - 4)]))
  let stored = UInt32(littleEndian: chunk.loadUnaligned(fromByteOffset: chunk.count - 4, as: UInt32.self))
  let halvesSwapped = (computed & 0x00FF_00FF) << 8 | (computed & 0xFF00_FF00) >> 8
  return stored == computed || stored == halvesSwapped
}
