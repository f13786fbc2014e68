// CRC-32 (IEEE 802.3, polynomial 0xEDB88320, as zlib and PNG compute it): the one checksum of
// extract's resume journal, finetune's checkpoint and PNG chunks.

import Foundation

/// CRC-32, table-driven, whole or in pieces.
public enum CRC32 {
  private static let table: [UInt32] = (0..<256).map { n in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
  }

  /// The CRC-32 of `bytes`.
  public static func checksum<Bytes: ContiguousBytes>(_ bytes: Bytes) -> UInt32 {
    bytes.withUnsafeBytes { update(0, $0) }
  }

  /// The CRC-32 of what `crc` covered followed by `raw` (start with 0).
  public static func update(_ crc: UInt32, _ raw: UnsafeRawBufferPointer) -> UInt32 {
    table.withUnsafeBufferPointer { table in
      var c = ~crc
      for byte in raw { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
      return ~c
    }
  }
}
