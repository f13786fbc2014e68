// libtiff over a memory buffer, with its messages captured per handle (see
// include/tiff_shims.h for why this part is C).
#include "tiff_shims.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

struct hs_tiff {
  TIFF *tif;
  const unsigned char *data;
  size_t size;
  uint64_t offset;
  // The first error libtiff reported since the last reset: later ones are usually consequences.
  char error[320];
  int has_error;
};

// ---- messages ---------------------------------------------------------------------------

// Errors go to the handle that caused them (libtiff 4.5's per-handle handlers, so threads
// decoding different files never share a message buffer).
static int hs_tiff_on_error(TIFF *tif, void *user_data, const char *module, const char *format,
                            va_list args) {
  (void)tif;
  hs_tiff *handle = (hs_tiff *)user_data;
  if (handle != NULL && !handle->has_error) {
    char text[256];
    vsnprintf(text, sizeof text, format, args);
    // The module is a libtiff function's name, or the handle's name ("TIFF"), which says nothing.
    if (module != NULL && module[0] != '\0' && strcmp(module, "TIFF") != 0) {
      snprintf(handle->error, sizeof handle->error, "%s: %s", module, text);
    } else {
      snprintf(handle->error, sizeof handle->error, "%s", text);
    }
    handle->has_error = 1;
  }
  return 1;  // handled: libtiff does not call the process-wide handler
}

// Warnings are recoveries (an unknown tag, a nonstandard tile size) that Pillow lets pass too.
static int hs_tiff_on_warning(TIFF *tif, void *user_data, const char *module, const char *format,
                              va_list args) {
  (void)tif;
  (void)user_data;
  (void)module;
  (void)format;
  (void)args;
  return 1;
}

// A few libtiff paths still report through the process-wide handlers, which print to stderr by
// default; Headstart is libtiff's only user in the process, so those are switched off once.
static pthread_once_t hs_tiff_silence_once = PTHREAD_ONCE_INIT;
static void hs_tiff_silence(void) {
  TIFFSetErrorHandler(NULL);
  TIFFSetWarningHandler(NULL);
}

// ---- the memory stream ------------------------------------------------------------------

static tmsize_t hs_tiff_read(thandle_t client, void *buffer, tmsize_t size) {
  hs_tiff *handle = (hs_tiff *)client;
  if (size <= 0 || handle->offset >= handle->size) return 0;
  uint64_t left = handle->size - handle->offset;
  size_t count = (uint64_t)size < left ? (size_t)size : (size_t)left;
  memcpy(buffer, handle->data + handle->offset, count);
  handle->offset += count;
  return (tmsize_t)count;
}

static tmsize_t hs_tiff_write(thandle_t client, void *buffer, tmsize_t size) {
  (void)client;
  (void)buffer;
  (void)size;
  return -1;  // read-only
}

static toff_t hs_tiff_seek(thandle_t client, toff_t offset, int whence) {
  hs_tiff *handle = (hs_tiff *)client;
  uint64_t base = whence == SEEK_CUR ? handle->offset : whence == SEEK_END ? handle->size : 0;
  // Offsets past the end are allowed (reads there return 0 bytes); wrapping is not.
  if (offset > UINT64_MAX - base) return (toff_t)-1;
  handle->offset = base + offset;
  return handle->offset;
}

static int hs_tiff_close_proc(thandle_t client) {
  (void)client;
  return 0;
}

static toff_t hs_tiff_size(thandle_t client) { return ((hs_tiff *)client)->size; }

// Mapping the buffer lets libtiff read uncompressed strips in place instead of copying them;
// libtiff never writes to mapped data (it maps files read-only itself).
static int hs_tiff_map(thandle_t client, void **base, toff_t *size) {
  hs_tiff *handle = (hs_tiff *)client;
  *base = (void *)handle->data;
  *size = handle->size;
  return 1;
}

static void hs_tiff_unmap(thandle_t client, void *base, toff_t size) {
  (void)client;
  (void)base;
  (void)size;
}

// ---- the calls ----------------------------------------------------------------------------

static void hs_tiff_describe(hs_tiff *handle, const char *fallback, char *message,
                             size_t capacity) {
  snprintf(message, capacity, "%s", handle->has_error ? handle->error : fallback);
}

static void hs_tiff_fill_info(TIFF *tif, hs_tiff_info *info) {
  memset(info, 0, sizeof *info);
  uint32_t u32 = 0;
  uint16_t u16 = 0;
  TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &info->width);
  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &info->height);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &info->bits_per_sample);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &info->samples_per_pixel);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &info->planar_config);
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &info->compression);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &info->sample_format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_FILLORDER, &info->fill_order);
  info->big_endian = TIFFIsBigEndian(tif) ? 1 : 0;
  // libtiff fills in a missing photometric tag itself while reading the directory.
  if (TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &u16)) info->photometric = u16;
  info->orientation = TIFFGetField(tif, TIFFTAG_ORIENTATION, &u16) ? u16 : 1;
  uint16_t count = 0;
  uint16_t *values = NULL;
  if (TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &count, &values) && values != NULL) {
    info->extra_count = count;
    for (uint16_t i = 0; i < count && i < 8; i++) info->extra[i] = values[i];
  }
  if (info->photometric == PHOTOMETRIC_YCBCR && info->compression == COMPRESSION_JPEG &&
      info->planar_config == PLANARCONFIG_CONTIG) {
    // What Pillow asks for: libjpeg upsamples and converts to RGB. Must precede the size query,
    // which then counts full-resolution RGB samples.
    TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
    info->jpeg_rgb = 1;
  }
  info->tiled = TIFFIsTiled(tif);
  if (info->tiled) {
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &info->block_width);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &info->block_height);
    info->blocks = TIFFNumberOfTiles(tif);
    info->block_bytes = (uint64_t)TIFFTileSize64(tif);
  } else {
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &u32);
    info->block_width = info->width;
    info->block_height = u32 < info->height ? u32 : info->height;
    info->blocks = TIFFNumberOfStrips(tif);
    info->block_bytes = (uint64_t)TIFFStripSize64(tif);
  }
  uint16_t *red = NULL;
  uint16_t *green = NULL;
  uint16_t *blue = NULL;
  if (info->photometric == PHOTOMETRIC_PALETTE && info->bits_per_sample <= 8 &&
      TIFFGetField(tif, TIFFTAG_COLORMAP, &red, &green, &blue) && red && green && blue) {
    uint32_t entries = 1u << info->bits_per_sample;
    for (uint32_t i = 0; i < entries; i++) {
      info->colormap[i] = red[i];
      info->colormap[256 + i] = green[i];
      info->colormap[512 + i] = blue[i];
    }
    info->has_colormap = 1;
  }
}

hs_tiff *hs_tiff_open(const unsigned char *data, size_t size, uint64_t max_allocation,
                      hs_tiff_info *info, char *message, size_t message_capacity) {
  pthread_once(&hs_tiff_silence_once, hs_tiff_silence);
  hs_tiff *handle = (hs_tiff *)calloc(1, sizeof *handle);
  TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
  if (handle == NULL || options == NULL) {
    snprintf(message, message_capacity, "out of memory opening a TIFF");
    free(handle);
    if (options) TIFFOpenOptionsFree(options);
    return NULL;
  }
  handle->data = data;
  handle->size = size;
  TIFFOpenOptionsSetMaxSingleMemAlloc(options, (tmsize_t)max_allocation);
  TIFFOpenOptionsSetErrorHandlerExtR(options, hs_tiff_on_error, handle);
  TIFFOpenOptionsSetWarningHandlerExtR(options, hs_tiff_on_warning, handle);
  handle->tif = TIFFClientOpenExt("TIFF", "r", (thandle_t)handle, hs_tiff_read, hs_tiff_write,
                                  hs_tiff_seek, hs_tiff_close_proc, hs_tiff_size, hs_tiff_map,
                                  hs_tiff_unmap, options);
  TIFFOpenOptionsFree(options);  // libtiff keeps its own copy of the settings
  if (handle->tif == NULL) {
    hs_tiff_describe(handle, "not a readable TIFF", message, message_capacity);
    free(handle);
    return NULL;
  }
  hs_tiff_fill_info(handle->tif, info);
  return handle;
}

int64_t hs_tiff_read_block(hs_tiff *tiff, uint32_t index, void *buffer, size_t capacity,
                           char *message, size_t message_capacity) {
  tiff->has_error = 0;
  tmsize_t got = TIFFIsTiled(tiff->tif)
                     ? TIFFReadEncodedTile(tiff->tif, index, buffer, (tmsize_t)capacity)
                     : TIFFReadEncodedStrip(tiff->tif, index, buffer, (tmsize_t)capacity);
  // Only the result counts, as in Pillow (which lets libtiff print and goes on): some codecs
  // report a recoverable problem as an error and still decode the block.
  if (got < 0) {
    hs_tiff_describe(tiff, "cannot decode a strip or tile", message, message_capacity);
    return -1;
  }
  return (int64_t)got;
}

void hs_tiff_close(hs_tiff *tiff) {
  if (tiff == NULL) return;
  if (tiff->tif != NULL) TIFFClose(tiff->tif);
  free(tiff);
}
