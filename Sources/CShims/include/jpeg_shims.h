// Image decoding shims: libjpeg and libpng report fatal errors with longjmp, and the setjmp
// that catches them must live in C, in the same frame as the decode. Each function below
// runs one whole decode under its own setjmp and turns any library error into a one-line
// message, so Swift never sees a longjmp. The structs keep only plain C types, so importing
// CShims does not drag jpeglib.h or png.h into Swift.
//
// Both shims are here (not only JPEG) because libpng needs exactly the same treatment.
#ifndef HS_JPEG_SHIMS_H
#define HS_JPEG_SHIMS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Room for a message: libjpeg's own are at most JMSG_LENGTH_MAX (200) characters.
#define HS_IMAGE_MESSAGE_CAPACITY 320

/// A JPEG with more scans than this is refused: a progressive file is decoded scan after scan
/// over the whole image, and a small file can hold thousands of tiny scans. Real files have
/// about ten (libjpeg's default progression), at most a few dozen.
#define HS_JPEG_MAX_SCANS 1000

/// What a JPEG header says, and what the decode produces.
typedef struct hs_jpeg_header {
  int width;
  int height;
  /// Components in the decoded output: 1 (grayscale), 3 (RGB), 4 (CMYK, as stored: Adobe
  /// files keep it inverted). Files with any other count are refused by the shim.
  int components;
  /// 1 for progressive (multi-scan) files.
  int progressive;
} hs_jpeg_header;

/// Reads the markers up to the first scan. Returns 0, or nonzero with a reason in `message`.
int hs_jpeg_read_header(const unsigned char *data, size_t size, hs_jpeg_header *header,
                        char *message, size_t message_capacity);

/// Decodes the whole image into `pixels` as (height, width, components) bytes, with libjpeg's
/// defaults (JDCT_ISLOW, fancy upsampling, block smoothing), the settings Pillow uses.
/// `capacity` must be at least height * width * components from hs_jpeg_read_header.
/// Running out of data is an error ("truncated JPEG: ..."), and so is a file with more than
/// HS_JPEG_MAX_SCANS scans; libjpeg's other warnings (corrupt-data recoveries) are tolerated,
/// as Pillow tolerates them.
int hs_jpeg_decode(const unsigned char *data, size_t size, unsigned char *pixels,
                   size_t capacity, hs_jpeg_header *header, char *message,
                   size_t message_capacity);

/// What the PNG decode produced.
typedef struct hs_png_result {
  int width;
  int height;
  int bit_depth;
  int color_type;
  /// Bytes per row in `pixels`: samples below 8 bits are unpacked to one byte each (not
  /// rescaled); 16-bit samples stay two big-endian bytes.
  size_t row_bytes;
  int palette_entries;
  unsigned char palette[256 * 3];
} hs_png_result;

/// Decodes a PNG into `pixels` with no colour transforms except unpacking sub-byte samples
/// and de-interlacing. CRC errors are not checked here (the caller checks the chunks that
/// Pillow checks). Returns 0, or nonzero with a reason in `message`; a file that ends early
/// gives "truncated PNG: ...".
int hs_png_decode(const unsigned char *data, size_t size, unsigned char *pixels,
                  size_t capacity, hs_png_result *result, char *message,
                  size_t message_capacity);

#ifdef __cplusplus
}
#endif

#endif
