// See include/zlib_shims.h.
#include "zlib_shims.h"

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
