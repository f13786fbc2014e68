// Measuring a zlib stream without keeping what it inflates to: how PNG's compressed text and
// ICC chunks are checked against Pillow's limits before anything allocates for them. And
// inflating a raw deflate stream a piece at a time: how a compressed `.npz` entry (gigabytes,
// perhaps) is read a batch of rows at a time without ever being held whole.
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

/// A raw deflate stream (no zlib header: a zip entry's method 8) being inflated piece by piece.
typedef struct hs_inflater hs_inflater;

/// A new inflater, or NULL when memory is short. Free it with `hs_inflater_free`.
hs_inflater *hs_inflater_new(void);

/// Inflates from `input` (`input_size` bytes) into `output` (`output_size` bytes), setting how
/// many bytes of each were used. Returns 1 at the end of the stream, 0 when more input or
/// output room is needed, -1 for data that is not a deflate stream.
int hs_inflater_run(hs_inflater *inflater, const unsigned char *input, size_t input_size, size_t *consumed,
                    unsigned char *output, size_t output_size, size_t *produced);

void hs_inflater_free(hs_inflater *inflater);

#ifdef __cplusplus
}
#endif

#endif
