// Measuring a zlib stream without keeping what it inflates to: how PNG's compressed text and
// ICC chunks are checked against Pillow's limits before anything allocates for them.
#ifndef HS_ZLIB_SHIMS_H
#define HS_ZLIB_SHIMS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// How many bytes the zlib stream `data` inflates to, inflating into a small scratch buffer and
/// stopping after `limit + 1` bytes, so neither memory nor time grows with a decompression bomb.
/// Returns that count (at most `limit + 1`: more than `limit`), the bytes produced before the
/// input ran out for a stream cut short (as Python's zlib.decompressobj counts them), or -1 for
/// data that is not a zlib stream.
long long hs_zlib_inflated_size(const unsigned char *data, size_t size, size_t limit);

#ifdef __cplusplus
}
#endif

#endif
