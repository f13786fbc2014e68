// See include/zlib_shims.h.
#include "zlib_shims.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

long long hs_zlib_inflated_size(const unsigned char *data, size_t size, size_t limit) {
  z_stream stream;
  memset(&stream, 0, sizeof stream);
  if (inflateInit(&stream) != Z_OK) return -1;
  unsigned char scratch[1 << 16];
  unsigned long long produced = 0;
  size_t offered = 0;  // input handed to zlib so far; avail_in is only 32 bits wide
  int status = Z_OK;
  while (status == Z_OK && produced <= limit) {
    if (stream.avail_in == 0 && offered < size) {
      size_t piece = size - offered < (1u << 30) ? size - offered : (1u << 30);
      stream.next_in = (unsigned char *)data + offered;
      stream.avail_in = (uInt)piece;
      offered += piece;
    }
    stream.next_out = scratch;
    stream.avail_out = sizeof scratch;
    status = inflate(&stream, Z_NO_FLUSH);
    produced += sizeof scratch - stream.avail_out;
    // Z_BUF_ERROR: no progress was possible, the input is used up (a stream cut short).
  }
  inflateEnd(&stream);
  if (status == Z_DATA_ERROR || status == Z_NEED_DICT || status == Z_MEM_ERROR || status == Z_STREAM_ERROR)
    return -1;
  return (long long)(produced > limit ? limit + 1 : produced);
}

struct hs_inflater {
  z_stream stream;
};

hs_inflater *hs_inflater_new(void) {
  hs_inflater *inflater = calloc(1, sizeof *inflater);
  if (inflater == NULL) return NULL;
  // Negative window bits: a raw deflate stream, as zip stores it (no zlib header or trailer).
  if (inflateInit2(&inflater->stream, -MAX_WBITS) != Z_OK) {
    free(inflater);
    return NULL;
  }
  return inflater;
}

int hs_inflater_run(hs_inflater *inflater, const unsigned char *input, size_t input_size, size_t *consumed,
                    unsigned char *output, size_t output_size, size_t *produced) {
  z_stream *stream = &inflater->stream;
  // avail_in and avail_out are 32 bits wide; callers hand over pieces far smaller than that,
  // and a larger one is simply offered in part (the counts say how much was used).
  uInt in = input_size < (1u << 30) ? (uInt)input_size : (1u << 30);
  uInt out = output_size < (1u << 30) ? (uInt)output_size : (1u << 30);
  stream->next_in = (unsigned char *)input;
  stream->avail_in = in;
  stream->next_out = output;
  stream->avail_out = out;
  int status = inflate(stream, Z_NO_FLUSH);
  *consumed = in - stream->avail_in;
  *produced = out - stream->avail_out;
  if (status == Z_STREAM_END) return 1;
  // Z_BUF_ERROR only says no progress was possible with what was offered: the caller decides.
  if (status == Z_OK || status == Z_BUF_ERROR) return 0;
  return -1;
}

void hs_inflater_free(hs_inflater *inflater) {
  if (inflater == NULL) return;
  inflateEnd(&inflater->stream);
  free(inflater);
}
