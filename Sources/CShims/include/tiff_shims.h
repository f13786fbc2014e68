// libtiff from memory, without a word on stderr. Two things here need C: libtiff reports errors
// and warnings through printf-style handlers (a va_list Swift cannot receive), and its tag
// accessors TIFFGetField/TIFFSetField are variadic (Swift does not import them). Everything
// else (reading strips and tiles, converting samples) is Swift's, in ImageIO/TIFFDecoder.swift.
// The structs keep only plain C types, so importing CShims does not bring tiffio.h into Swift.
#ifndef HS_TIFF_SHIMS_H
#define HS_TIFF_SHIMS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An open TIFF over a caller's buffer, with the first error libtiff reported about it.
typedef struct hs_tiff hs_tiff;

/// What the first directory (page) says, as libtiff reads it.
typedef struct hs_tiff_info {
  uint32_t width;
  uint32_t height;
  uint16_t bits_per_sample;
  uint16_t samples_per_pixel;
  uint16_t photometric;
  uint16_t planar_config;
  uint16_t compression;
  uint16_t sample_format;
  uint16_t fill_order;
  /// 1 for a big-endian ("MM") file: libtiff hands out 16-bit samples in native order either way,
  /// but Pillow reads some kinds in one byte order only.
  int big_endian;
  /// 1 when the file has no Orientation tag.
  uint16_t orientation;
  /// ExtraSamples: how many, and the first (at most) 8 values.
  uint16_t extra_count;
  uint16_t extra[8];
  int tiled;
  /// A tile's size, or for strips the image width and the rows per strip (at most the height).
  uint32_t block_width;
  uint32_t block_height;
  /// Strips or tiles in the file (for separate planes, all planes' blocks, plane after plane).
  uint32_t blocks;
  /// Bytes one whole strip or tile decodes to (libtiff's TIFFStripSize64/TIFFTileSize64).
  uint64_t block_bytes;
  /// 1 when libjpeg converts a JPEG-compressed YCbCr image to RGB (JPEGCOLORMODE_RGB), as
  /// Pillow asks of libtiff; blocks then hold 8-bit RGB.
  int jpeg_rgb;
  /// The ColorMap, 1 << bits_per_sample entries per channel (palette images of 8 bits or less).
  int has_colormap;
  uint16_t colormap[3 * 256];
} hs_tiff_info;

/// Opens the first directory of the TIFF in `data` (which must outlive the handle). Returns
/// NULL with a reason in `message` when libtiff cannot read it. libtiff allocates no single
/// block larger than `max_allocation` bytes.
hs_tiff *hs_tiff_open(const unsigned char *data, size_t size, uint64_t max_allocation,
                      hs_tiff_info *info, char *message, size_t message_capacity);

/// Decodes strip or tile `index` into `buffer` (at most `capacity` bytes). Returns the bytes
/// produced, or -1 with libtiff's reason in `message`.
int64_t hs_tiff_read_block(hs_tiff *tiff, uint32_t index, void *buffer, size_t capacity,
                           char *message, size_t message_capacity);

void hs_tiff_close(hs_tiff *tiff);

#ifdef __cplusplus
}
#endif

#endif
