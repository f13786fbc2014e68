// JPEG encoding to memory, for the report's embedded thumbnails. Like the decode shims, the
// whole compress runs under one setjmp in C, so a libjpeg error becomes a message, never a
// longjmp through Swift frames.
#ifndef HS_JPEG_ENCODE_H
#define HS_JPEG_ENCODE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Compresses `rgb`, (height, width, 3) bytes row-major, to a baseline JPEG with libjpeg's
/// standard tables at `quality` (1-100). On success returns 0 and sets `*out` to a malloc'd
/// buffer of `*out_size` bytes that the caller releases with hs_jpeg_free. On failure returns
/// nonzero, leaves `*out` NULL and writes a reason into `message`.
int hs_jpeg_encode(const unsigned char *rgb, int width, int height, int quality,
                   unsigned char **out, size_t *out_size, char *message,
                   size_t message_capacity);

/// Releases a buffer from hs_jpeg_encode (NULL is fine).
void hs_jpeg_free(unsigned char *buffer);

#ifdef __cplusplus
}
#endif

#endif
