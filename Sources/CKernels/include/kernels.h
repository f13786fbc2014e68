// Headstart's inference kernels: a GEMM against a right-hand matrix packed once (a layer's
// weights), with the convolution epilogue fused, and the Winograd F(2x2, 3x3) tile
// transforms. Each exists in three builds of one source (templates/kernels_template.h):
// AVX-512, AVX2+FMA and portable C; the widest the CPU supports is chosen once, and tests can
// force a narrower one.
//
// Layouts: matrices are row-major; activations NHWC; a packed matrix is the (K, N) matrix cut
// into panels of HS_PANEL columns, each panel stored row by row (K, HS_PANEL), the last one
// zero-padded: element (k, n) sits at (n / HS_PANEL) * K * HS_PANEL + k * HS_PANEL + n % HS_PANEL.
#ifndef HEADSTART_KERNELS_H
#define HEADSTART_KERNELS_H

#include <stddef.h>

#define HS_PANEL 32

typedef enum {
  HS_KERNELS_PORTABLE = 0,  // plain C, compiled for baseline x86-64 (SSE2) or the host
  HS_KERNELS_AVX2 = 1,      // AVX2 + FMA3, 8 floats per instruction
  HS_KERNELS_AVX512 = 2,    // AVX-512 F/BW/DQ/VL, 16 floats per instruction
} hs_kernel_level;

/// The widest level this CPU and OS support.
hs_kernel_level hs_kernels_best(void);
/// The level in use (the best, unless forced).
hs_kernel_level hs_kernels_active(void);
/// Uses `level` from now on, clamped to the best the CPU supports; returns the level set.
/// For tests and comparisons: every level computes the same products.
hs_kernel_level hs_kernels_force(hs_kernel_level level);

/// Floats a packed (k, n) matrix takes.
size_t hs_packed_count(int k, int n);
/// Packs b (k, n), row stride ldb, into `packed` (hs_packed_count(k, n) floats).
void hs_pack(float *packed, const float *b, int k, int n, int ldb);
/// Packs rows row0 ..< row0 + rows of a (k, n) matrix into their places in `packed` (the whole
/// matrix's hs_packed_count(k, n) floats); b points at row row0, row stride ldb. Packing every
/// row range once gives what hs_pack gives.
void hs_pack_rows(float *packed, const float *b, int k, int n, int row0, int rows, int ldb);

/// c (m, n) = act(a (m, k) x B + bias (n) + residual (m, n)), B packed by hs_pack.
/// `bias` and `residual` may be NULL; `relu` is 0 or 1. Row strides lda, ldc, ldr. c must not
/// overlap a or residual. Single-threaded: callers split rows across threads.
void hs_gemm_packed(int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
                    const float *bias, const float *residual, int ldr, int relu);

/// Where the tiles of a Winograd layer are. Input (N, H, W, C), output (N, OH, OW, K); the tile
/// grid starts at (-pad_top, -pad_left); tile t is image t / tiles_per_image, row
/// (t % tiles_per_image) / tiles_w, column t % tiles_w. A tile is 2x2 outputs (F(2x2, 3x3)) or
/// 4x4 (F(4x4, 3x3)).
typedef struct {
  int h, w, c;
  int oh, ow, k;
  int pad_top, pad_left;
  int tiles_w, tiles_per_image;
} hs_winograd_geometry;

/// V (16, count, C): the transformed 4x4 input patch B^T d B of tiles first ..< first + count,
/// tile first + i at v + i * C, the 16 elements `ld` floats apart (count * C when V is these
/// tiles alone; a slice of a larger V passes that V's).
void hs_winograd_input(const hs_winograd_geometry *g, const float *input, int first, int count, float *v, size_t ld);
/// Output pixels of tiles first ..< first + count from M (16, count, K), laid out as
/// hs_winograd_input's V (elements `ld` floats apart): act(A^T M A + bias + residual), written
/// only where they fall inside the output.
void hs_winograd_output(const hs_winograd_geometry *g, const float *m, int first, int count, size_t ld,
                        const float *bias, const float *residual, int relu, float *output);

/// F(4x4, 3x3): V (36, count, C) = B^T d B of the 6x6 input patch of each tile.
void hs_winograd4_input(const hs_winograd_geometry *g, const float *input, int first, int count, float *v);
/// F(4x4, 3x3): the 16 output pixels of each tile from M (36, count, K), as hs_winograd_output.
void hs_winograd4_output(const hs_winograd_geometry *g, const float *m, int first, int count, const float *bias,
                         const float *residual, int relu, float *output);

// Training's F(2x2, 3x3) (the template's comment gives the matrices).
/// U (16, plane) = G g G^T of an HWIO kernel (3, 3, C, K), plane = C * K: the `count` (c, k)
/// pairs from w's first on (a slice passes w + start and u + start).
void hs_winograd_kernel(const float *w, size_t plane, size_t count, float *u);
/// dw (3, 3, C, K) += G^T R G of R (16, plane), plane = C * K, for `count` (c, k) pairs, as
/// hs_winograd_kernel.
void hs_winograd_kernel_gradient(const float *r, size_t plane, size_t count, float *dw);
/// E (16, count, K) = A e A^T of tiles first ..< first + count, e the tile's 2x2 of dy
/// (N, OH, OW, K), zero where it falls outside; laid out as hs_winograd_input's V.
void hs_winograd_output_gradient(const hs_winograd_geometry *g, const float *dy, int first, int count, float *e,
                                 size_t ld);
/// dx (N, H, W, C) += B Q B^T of tiles first ..< first + count, Q (16, count, C) laid out as
/// hs_winograd_input's V, where the 4x4 patch falls inside the input. Tiles of one image
/// overlap: threads take whole images.
void hs_winograd_input_gradient(const hs_winograd_geometry *g, const float *q, int first, int count, size_t ld,
                                float *dx);

#endif
