// libjpeg compress-to-memory under its own setjmp (see include/jpeg_encode.h for why).
#include "jpeg_encode.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

typedef struct hs_jpeg_encode_error {
  struct jpeg_error_mgr pub;  // first, so libjpeg's err pointer is also ours
  jmp_buf jump;
} hs_jpeg_encode_error;

static void hs_jpeg_encode_error_exit(j_common_ptr cinfo) {
  hs_jpeg_encode_error *err = (hs_jpeg_encode_error *)cinfo->err;
  longjmp(err->jump, 1);
}

static void hs_jpeg_encode_output_message(j_common_ptr cinfo) { (void)cinfo; }

int hs_jpeg_encode(const unsigned char *rgb, int width, int height, int quality,
                   unsigned char **out, size_t *out_size, char *message,
                   size_t message_capacity) {
  *out = NULL;
  *out_size = 0;
  if (width <= 0 || height <= 0 || quality < 1 || quality > 100) {
    snprintf(message, message_capacity, "cannot encode a %dx%d JPEG at quality %d", width,
             height, quality);
    return 1;
  }
  struct jpeg_compress_struct cinfo;
  hs_jpeg_encode_error err;
  memset(&err, 0, sizeof err);
  // jpeg_mem_dest mallocs the buffer and grows it; `*buffer` always points at the live one,
  // so it is what must be freed when libjpeg bails out half-way.
  unsigned char *volatile *buffer = (unsigned char *volatile *)out;
  unsigned long size = 0;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = hs_jpeg_encode_error_exit;
  err.pub.output_message = hs_jpeg_encode_output_message;
  if (setjmp(err.jump)) {
    char text[JMSG_LENGTH_MAX];
    cinfo.err->format_message((j_common_ptr)&cinfo, text);
    snprintf(message, message_capacity, "JPEG encode failed: %s", text);
    jpeg_destroy_compress(&cinfo);
    free(*buffer);
    *buffer = NULL;
    return 1;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, out, &size);
  cinfo.image_width = (JDIMENSION)width;
  cinfo.image_height = (JDIMENSION)height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  size_t stride = (size_t)width * 3;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * stride);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  *out_size = (size_t)size;
  return 0;
}

void hs_jpeg_free(unsigned char *buffer) { free(buffer); }
