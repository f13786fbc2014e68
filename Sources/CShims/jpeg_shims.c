// libjpeg and libpng decodes, each under its own setjmp (see include/jpeg_shims.h for why).
// Everything between setjmp and a possible longjmp that is read afterwards is either in a
// struct the library owns or declared volatile.
#include "jpeg_shims.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

// ---- JPEG -------------------------------------------------------------------------------

typedef struct hs_jpeg_error {
  struct jpeg_error_mgr pub;  // first, so libjpeg's err pointer is also ours
  jmp_buf jump;
  int truncated;
  int too_many_scans;
} hs_jpeg_error;

static void hs_jpeg_error_exit(j_common_ptr cinfo) {
  hs_jpeg_error *err = (hs_jpeg_error *)cinfo->err;
  longjmp(err->jump, 1);
}

// Warnings (level -1) are corrupt-data recoveries that Pillow also lets pass, except running
// out of data: jpeg_mem_src then invents an EOI and grey-fills the rest, where Pillow (with
// LOAD_TRUNCATED_IMAGES off, Keras' setting) raises "image file is truncated".
static void hs_jpeg_emit_message(j_common_ptr cinfo, int msg_level) {
  hs_jpeg_error *err = (hs_jpeg_error *)cinfo->err;
  if (msg_level < 0) {
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
      err->truncated = 1;
      longjmp(err->jump, 1);
    }
    cinfo->err->num_warnings++;
  }
}

static void hs_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

// libjpeg calls this before absorbing each piece of a multi-scan file (jpeg_start_decompress
// reads all of a progressive file's scans into its coefficient buffer); a new scan has begun
// when input_scan_number grows. Past HS_JPEG_MAX_SCANS the decode stops, as libjpeg-turbo's own
// scan limit (TJPARAM_SCANLIMIT) stops it, before the next scan is read.
static void hs_jpeg_progress_monitor(j_common_ptr cinfo) {
  if (((j_decompress_ptr)cinfo)->input_scan_number > HS_JPEG_MAX_SCANS) {
    hs_jpeg_error *err = (hs_jpeg_error *)cinfo->err;
    err->too_many_scans = 1;
    longjmp(err->jump, 1);
  }
}

static void hs_jpeg_describe(j_decompress_ptr cinfo, const char *prefix, size_t size,
                             char *message, size_t capacity) {
  hs_jpeg_error *err = (hs_jpeg_error *)cinfo->err;
  char text[JMSG_LENGTH_MAX];
  cinfo->err->format_message((j_common_ptr)cinfo, text);
  if (err->truncated) {
    snprintf(message, capacity,
             "truncated JPEG: the file ends after %zu bytes, before the image data is complete "
             "(libjpeg: %s)",
             size, text);
  } else if (err->too_many_scans) {
    snprintf(message, capacity,
             "progressive JPEG with more than %d scans, refused (real files have about ten; so "
             "many can keep a decoder busy for minutes)",
             HS_JPEG_MAX_SCANS);
  } else {
    snprintf(message, capacity, "%s: %s", prefix, text);
  }
}

// After jpeg_read_header: fill `header` and choose the output colour space. 0 on success.
static int hs_jpeg_begin(j_decompress_ptr cinfo, hs_jpeg_header *header, char *message,
                         size_t capacity) {
  if (cinfo->num_components != 1 && cinfo->num_components != 3 && cinfo->num_components != 4) {
    snprintf(message, capacity, "unsupported JPEG: %d colour components (expected 1, 3 or 4)",
             cinfo->num_components);
    return 1;
  }
  header->width = (int)cinfo->image_width;
  header->height = (int)cinfo->image_height;
  header->components = cinfo->num_components;
  header->progressive = jpeg_has_multiple_scans(cinfo) ? 1 : 0;
  // What Pillow asks for: "L", "RGB", or "CMYK" (it inverts Adobe CMYK afterwards, as do we).
  cinfo->out_color_space = cinfo->num_components == 1   ? JCS_GRAYSCALE
                           : cinfo->num_components == 3 ? JCS_RGB
                                                        : JCS_CMYK;
  return 0;
}

static void hs_jpeg_setup(j_decompress_ptr cinfo, hs_jpeg_error *err) {
  memset(err, 0, sizeof *err);
  cinfo->err = jpeg_std_error(&err->pub);
  err->pub.error_exit = hs_jpeg_error_exit;
  err->pub.emit_message = hs_jpeg_emit_message;
  err->pub.output_message = hs_jpeg_output_message;
}

int hs_jpeg_read_header(const unsigned char *data, size_t size, hs_jpeg_header *header,
                        char *message, size_t message_capacity) {
  struct jpeg_decompress_struct cinfo;
  hs_jpeg_error err;
  hs_jpeg_setup(&cinfo, &err);
  if (setjmp(err.jump)) {
    hs_jpeg_describe(&cinfo, "corrupt JPEG header", size, message, message_capacity);
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  int status = hs_jpeg_begin(&cinfo, header, message, message_capacity);
  jpeg_destroy_decompress(&cinfo);
  return status;
}

int hs_jpeg_decode(const unsigned char *data, size_t size, unsigned char *pixels,
                   size_t capacity, hs_jpeg_header *header, char *message,
                   size_t message_capacity) {
  struct jpeg_decompress_struct cinfo;
  hs_jpeg_error err;
  hs_jpeg_setup(&cinfo, &err);
  if (setjmp(err.jump)) {
    hs_jpeg_describe(&cinfo, "corrupt JPEG", size, message, message_capacity);
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  jpeg_create_decompress(&cinfo);
  struct jpeg_progress_mgr progress = {0};
  progress.progress_monitor = hs_jpeg_progress_monitor;
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  if (hs_jpeg_begin(&cinfo, header, message, message_capacity)) {
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  size_t stride = (size_t)header->width * (size_t)header->components;
  if (capacity < stride * (size_t)header->height) {
    snprintf(message, message_capacity, "internal error: JPEG output buffer too small");
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  jpeg_start_decompress(&cinfo);
  if ((int)cinfo.output_components != header->components ||
      (int)cinfo.output_width != header->width || (int)cinfo.output_height != header->height) {
    snprintf(message, message_capacity, "internal error: unexpected JPEG output geometry");
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[8];
    int count = cinfo.rec_outbuf_height < 8 ? cinfo.rec_outbuf_height : 8;
    if (count < 1) count = 1;
    for (int i = 0; i < count; i++) {
      JDIMENSION y = cinfo.output_scanline + (JDIMENSION)i;
      if (y >= cinfo.output_height) y = cinfo.output_height - 1;
      rows[i] = pixels + (size_t)y * stride;
    }
    jpeg_read_scanlines(&cinfo, rows, (JDIMENSION)count);
  }
  // Read on to the EOI marker: a file cut anywhere, even just before its last two bytes, is
  // truncated, and Pillow refuses such files too (in practice; its buffering makes the exact
  // cut-off vary by a few bytes).
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return 0;
}

// ---- PNG --------------------------------------------------------------------------------

typedef struct hs_png_source {
  const unsigned char *data;
  size_t size;
  size_t offset;
  int truncated;
  char *message;
  size_t message_capacity;
} hs_png_source;

static void hs_png_read(png_structp png, png_bytep out, png_size_t length) {
  hs_png_source *src = (hs_png_source *)png_get_io_ptr(png);
  if (length > src->size - src->offset) {
    src->truncated = 1;
    png_error(png, "file ends early");
  }
  memcpy(out, src->data + src->offset, length);
  src->offset += length;
}

static void hs_png_error(png_structp png, png_const_charp text) {
  hs_png_source *src = (hs_png_source *)png_get_error_ptr(png);
  if (src->truncated) {
    snprintf(src->message, src->message_capacity,
             "truncated PNG: the file ends after %zu bytes, before the image data is complete",
             src->size);
  } else {
    snprintf(src->message, src->message_capacity, "corrupt PNG: %s", text);
  }
  png_longjmp(png, 1);
}

static void hs_png_warning(png_structp png, png_const_charp text) {
  (void)png;
  (void)text;
}

int hs_png_decode(const unsigned char *data, size_t size, unsigned char *pixels,
                  size_t capacity, hs_png_result *result, char *message,
                  size_t message_capacity) {
  hs_png_source src = {data, size, 0, 0, message, message_capacity};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, hs_png_error,
                                           hs_png_warning);
  if (!png) {
    snprintf(message, message_capacity, "out of memory creating a PNG reader");
    return 1;
  }
  png_infop info = png_create_info_struct(png);
  png_bytep *volatile rows = NULL;
  if (!info || setjmp(png_jmpbuf(png))) {
    if (!info) snprintf(message, message_capacity, "out of memory creating a PNG reader");
    free(rows);
    png_destroy_read_struct(&png, info ? &info : NULL, NULL);
    return 1;
  }
  png_set_read_fn(png, &src, hs_png_read);
  // Pillow reads IDAT without checking its CRC; the caller checks the chunks Pillow checks.
  png_set_crc_action(png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
  png_set_benign_errors(png, 1);
  // libpng's default 1,000,000-pixel width/height caps are tighter than Pillow's; the caller
  // enforces the pixel-count limit before we get here.
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  // Text, ICC and palette-suggestion chunks play no part in the pixels (Pillow's convert('RGB')
  // applies no ICC profile). The caller has refused files whose compressed ones exceed Pillow's
  // limits (ImageIO/PNGTextChunks.swift); libpng skips them all instead of inflating them again.
  static const png_byte unused[] = "iCCP\0iTXt\0sPLT\0tEXt\0zTXt";
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, unused, 5);
  png_read_info(png, info);
  result->width = (int)png_get_image_width(png, info);
  result->height = (int)png_get_image_height(png, info);
  result->bit_depth = png_get_bit_depth(png, info);
  result->color_type = png_get_color_type(png, info);
  result->palette_entries = 0;
  png_colorp palette = NULL;
  int entries = 0;
  if (png_get_PLTE(png, info, &palette, &entries) && palette) {
    if (entries > 256) entries = 256;
    for (int i = 0; i < entries; i++) {
      result->palette[3 * i + 0] = palette[i].red;
      result->palette[3 * i + 1] = palette[i].green;
      result->palette[3 * i + 2] = palette[i].blue;
    }
    result->palette_entries = entries;
  }
  if (result->bit_depth < 8) png_set_packing(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  result->row_bytes = png_get_rowbytes(png, info);
  if (result->row_bytes * (size_t)result->height > capacity) {
    snprintf(message, message_capacity, "internal error: PNG output buffer too small");
    png_destroy_read_struct(&png, &info, NULL);
    return 1;
  }
  rows = malloc(sizeof(png_bytep) * (size_t)(result->height > 0 ? result->height : 1));
  if (!rows) png_error(png, "out of memory for row pointers");
  for (int y = 0; y < result->height; y++) rows[y] = pixels + (size_t)y * result->row_bytes;
  png_read_image(png, rows);
  free(rows);
  png_destroy_read_struct(&png, &info, NULL);
  return 0;
}
