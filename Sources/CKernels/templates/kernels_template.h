// The body of the inference kernels, compiled once per instruction set: isa_avx512.c,
// isa_avx2.c and isa_portable.c define the parameters below, give every function in the file
// their target (clang's `#pragma clang attribute`) and include this file. One source, so the
// three builds cannot drift apart; the vector width comes from the target, not from the code.
//
//   HS_ISA  name suffix (avx512, avx2, portable)     HS_VW  floats per vector
//   HS_MR   rows of a micro-tile                     HS_NV  vectors per micro-tile row
//   HS_KC   depth of a k block (the packed panel's k rows kept in L1 while A streams past)
//   HS_MC   rows of an A block (kept in L2)          HS_NC  columns of a B block (a multiple of HS_PANEL)
//
// The micro-tile (HS_MR, HS_NV * HS_VW) lives in registers: AVX-512 12 x 32 is 24 zmm
// accumulators + 2 for B + 1 broadcast of A; AVX2 6 x 16 is 12 + 2 + 1 of the 16 ymm.

#include <stdint.h>

#define HS_CAT2(a, b) a##_##b
#define HS_CAT(a, b) HS_CAT2(a, b)
#define HS_FN(name) HS_CAT(name, HS_ISA)
#define HS_NR (HS_NV * HS_VW)
#define HS_IN_PLACE_MAX_N 128
#ifndef HS_ROWS_OUTER_MAX_B
#define HS_ROWS_OUTER_MAX_B (256 * 1024)  // floats of B (1 MB): half of a 2 MB L2
#endif
#define VEC HS_FN(vec)
#define IVEC HS_FN(ivec)

typedef float VEC __attribute__((vector_size(HS_VW * 4), aligned(4)));
typedef int IVEC __attribute__((vector_size(HS_VW * 4), aligned(4)));

#define INLINE static inline __attribute__((always_inline))
// Loops over the micro-tile's rows and vectors are unrolled so its accumulators stay in registers.
#define UNROLL _Pragma("clang loop unroll(full)")

INLINE VEC HS_FN(ld)(const float *p) { return *(const VEC *)p; }
INLINE void HS_FN(st)(float *p, VEC v) { *(VEC *)p = v; }
INLINE VEC HS_FN(zero)(void) { return (VEC){0}; }
INLINE VEC HS_FN(relu)(VEC v) {
  VEC zero = {0};
  return (VEC)((IVEC)v & (IVEC)(v > zero));
}

// acc (HS_MR, HS_NR) = [c +] a x b: element (i, p) of a is a[p * ap + i * ai] (packed:
// ap = HS_MR, ai = 1; read in place: ap = 1, ai = lda), b is (kc, HS_NR) with row stride
// HS_PANEL. On the last k block the epilogue (+ bias, + residual, relu) is applied. Only rows
// ..< `rows` of c and residual are read or written.
INLINE void HS_FN(micro_strided)(int kc, const float *a, int ap, int ai, const float *b, float *c, int ldc,
                                 int accumulate, int last, const float *bias, const float *residual, int ldr,
                                 int relu, int rows) {
  VEC acc[HS_MR][HS_NV];
  // The residual of a 1x1 layer's epilogue comes from memory when the activations outgrow the
  // caches (ResNet50's 56x56 and 28x28 stages over 16 images: 51 and 26 MB), and the hardware
  // prefetchers do not follow its rows, 1 KB and more apart: the tile two below this one asks
  // for its lines now, so they arrive while this tile's multiply-adds run. Prefetches never
  // fault; the address is computed as an integer because it may lie past the matrix. Layer
  // profile, Zen 3, minimum of 7 alternating runs: conv2 `*_out` 1.05 -> 0.91 ms per image,
  // conv3 `*_out` 0.86-0.91 -> 0.76-0.80; two tiles ahead rather than one, 5 more runs:
  // conv2 0.83-0.86 -> 0.80-0.82. Layers whose residual is in cache did not change.
  if (last && residual) {
    UNROLL
    for (int i = 0; i < HS_MR; i++)
      UNROLL
      for (int j = 0; j < HS_NR; j += 16)
        __builtin_prefetch((const void *)((uintptr_t)residual + ((size_t)(2 * HS_MR + i) * ldr + j) * sizeof(float)));
  }
  UNROLL
  for (int i = 0; i < HS_MR; i++)
    UNROLL
    for (int j = 0; j < HS_NV; j++)
      acc[i][j] = accumulate && i < rows ? HS_FN(ld)(c + i * ldc + j * HS_VW) : HS_FN(zero)();
  for (int p = 0; p < kc; p++) {
    VEC bv[HS_NV];
    UNROLL
    for (int j = 0; j < HS_NV; j++) bv[j] = HS_FN(ld)(b + p * HS_PANEL + j * HS_VW);
    UNROLL
    for (int i = 0; i < HS_MR; i++) {
      float av = a[p * ap + i * ai];  // a scalar operand is broadcast (one vbroadcastss)
      UNROLL
      for (int j = 0; j < HS_NV; j++) acc[i][j] += av * bv[j];
    }
  }
  if (last) {
    if (bias) {
      UNROLL
      for (int j = 0; j < HS_NV; j++) {
        VEC bj = HS_FN(ld)(bias + j * HS_VW);
        UNROLL
        for (int i = 0; i < HS_MR; i++) acc[i][j] += bj;
      }
    }
    if (residual) {
      UNROLL
      for (int i = 0; i < HS_MR; i++)
        UNROLL
        for (int j = 0; j < HS_NV; j++)
          if (i < rows) acc[i][j] += HS_FN(ld)(residual + i * ldr + j * HS_VW);
    }
    if (relu) {
      UNROLL
      for (int i = 0; i < HS_MR; i++)
        UNROLL
        for (int j = 0; j < HS_NV; j++) acc[i][j] = HS_FN(relu)(acc[i][j]);
    }
  }
  UNROLL
  for (int i = 0; i < HS_MR; i++)
    if (i < rows)
      UNROLL
      for (int j = 0; j < HS_NV; j++) HS_FN(st)(c + i * ldc + j * HS_VW, acc[i][j]);
}

INLINE void HS_FN(micro)(int kc, const float *a, const float *b, float *c, int ldc, int accumulate, int last,
                         const float *bias, const float *residual, int ldr, int relu, int rows) {
  HS_FN(micro_strided)(kc, a, HS_MR, 1, b, c, ldc, accumulate, last, bias, residual, ldr, relu, rows);
}

// A micro-tile at the right edge (fewer than HS_NR columns left): c, bias and residual copied
// into full-width buffers, the micro-kernel run on them, the valid columns copied back.
static void HS_FN(edge)(int rows, int cols, int kc, const float *a, const float *b, float *c, int ldc,
                        int accumulate, int last, const float *bias, const float *residual, int ldr, int relu) {
  float ct[HS_MR * HS_NR], bt[HS_NR], rt[HS_MR * HS_NR];
  for (int i = 0; i < HS_MR; i++)
    for (int j = 0; j < HS_NR; j++) {
      int inside = i < rows && j < cols;
      ct[i * HS_NR + j] = inside && accumulate ? c[i * ldc + j] : 0;
      rt[i * HS_NR + j] = inside && residual ? residual[i * ldr + j] : 0;
    }
  for (int j = 0; j < HS_NR; j++) bt[j] = j < cols && bias ? bias[j] : 0;
  HS_FN(micro)(kc, a, b, ct, HS_NR, accumulate, last, bias ? bt : 0, residual ? rt : 0, HS_NR, relu, HS_MR);
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < cols; j++) c[i * ldc + j] = ct[i * HS_NR + j];
}

// Packs rows i0 ..< i1, columns k0 ..< k0 + kc of a into (row block, kc, HS_MR) order, rows past
// i1 zero: the micro-kernel then reads A as one contiguous stream.
static void HS_FN(pack_a)(float *packed, const float *a, int lda, int i0, int i1, int k0, int kc) {
  for (int ib = i0; ib < i1; ib += HS_MR) {
    float *block = packed + (size_t)((ib - i0) / HS_MR) * kc * HS_MR;
    for (int i = 0; i < HS_MR; i++) {
      if (ib + i < i1) {
        const float *row = a + (size_t)(ib + i) * lda + k0;
        for (int p = 0; p < kc; p++) block[p * HS_MR + i] = row[p];
      } else {
        for (int p = 0; p < kc; p++) block[p * HS_MR + i] = 0;
      }
    }
  }
}

// One (rows i0 ..< i1, k block k0) block of the product with A read in place: full micro-tiles
// broadcast their operands straight from a's rows; only the last, partial row block is packed.
static void HS_FN(in_place_block)(int kc, const float *a, int lda, const float *packed, int k, float *c, int ldc,
                                  int accumulate, int last, const float *bias, const float *residual, int ldr,
                                  int relu, int n0, int n1, int i0, int i1, int k0, float *ablock) {
  int full = i0 + (i1 - i0) / HS_MR * HS_MR;
  if (full < i1) HS_FN(pack_a)(ablock, a, lda, full, i1, k0, kc);
  for (int col = n0; col < n1; col += HS_NR) {
    int cols = n1 - col < HS_NR ? n1 - col : HS_NR;
    const float *b = packed + (size_t)(col / HS_PANEL) * k * HS_PANEL + (size_t)k0 * HS_PANEL + col % HS_PANEL;
    const float *bias_ = bias ? bias + col : 0;
    for (int i = i0; i < i1; i += HS_MR) {
      int rows = i1 - i < HS_MR ? i1 - i : HS_MR;
      float *c_ = c + (size_t)i * ldc + col;
      const float *r_ = residual ? residual + (size_t)i * ldr + col : 0;
      if (i < full && cols == HS_NR)
        HS_FN(micro_strided)(kc, a + (size_t)i * lda + k0, 1, lda, b, c_, ldc, accumulate, last, bias_, r_, ldr,
                             relu, HS_MR);
      else if (i < full) {
        HS_FN(pack_a)(ablock + HS_MC * HS_KC - HS_MR * kc, a, lda, i, i + HS_MR, k0, kc);
        HS_FN(edge)(rows, cols, kc, ablock + HS_MC * HS_KC - HS_MR * kc, b, c_, ldc, accumulate, last, bias_, r_,
                    ldr, relu);
      } else {
        HS_FN(edge)(rows, cols, kc, ablock, b, c_, ldc, accumulate, last, bias_, r_, ldr, relu);
      }
    }
  }
}

// One (rows i0 ..< i1, k block k0 ..< k0 + kc, columns n0 ..< n1) block of the product: A read
// in place or packed into `ablock`, then every micro-tile of the block.
static void HS_FN(block)(int in_place, int kc, const float *a, int lda, const float *packed, int k, float *c,
                         int ldc, int accumulate, int last, const float *bias, const float *residual, int ldr,
                         int relu, int n0, int n1, int i0, int i1, int k0, float *ablock) {
  if (in_place) {
    HS_FN(in_place_block)(kc, a, lda, packed, k, c, ldc, accumulate, last, bias, residual, ldr, relu, n0, n1, i0,
                          i1, k0, ablock);
    return;
  }
  HS_FN(pack_a)(ablock, a, lda, i0, i1, k0, kc);
  for (int col = n0; col < n1; col += HS_NR) {
    int cols = n1 - col < HS_NR ? n1 - col : HS_NR;
    const float *b = packed + (size_t)(col / HS_PANEL) * k * HS_PANEL + (size_t)k0 * HS_PANEL + col % HS_PANEL;
    const float *bias_ = bias ? bias + col : 0;
    for (int i = i0; i < i1; i += HS_MR) {
      int rows = i1 - i < HS_MR ? i1 - i : HS_MR;
      const float *a_ = ablock + (size_t)((i - i0) / HS_MR) * kc * HS_MR;
      float *c_ = c + (size_t)i * ldc + col;
      const float *r_ = residual ? residual + (size_t)i * ldr + col : 0;
      if (cols == HS_NR)
        HS_FN(micro)(kc, a_, b, c_, ldc, accumulate, last, bias_, r_, ldr, relu, rows);
      else
        HS_FN(edge)(rows, cols, kc, a_, b, c_, ldc, accumulate, last, bias_, r_, ldr, relu);
    }
  }
}

void HS_FN(hs_gemm_packed)(int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
                           const float *bias, const float *residual, int ldr, int relu) {
  // Goto's loop order with B packed in advance: a (HS_KC, HS_NC) block of B stays in L2 while
  // (HS_MC, HS_KC) blocks of A, packed here, pass through it; one panel's (HS_KC, HS_NR) slice
  // stays in L1 while the micro-tiles of the A block pass.
  float ablock[HS_MC * HS_KC];  // 48 KB at most: fits the 512 KB stacks of worker threads
  // Narrow products (ResNet50's 64- and 128-column 1x1 layers, its stem) spend as long packing A
  // as multiplying it: each packed element serves only n / HS_NR micro-tiles. They read A in
  // place (ResNet50 network alone, 16 images: 37.0 -> 35.3 ms per image); wider ones pack it,
  // which keeps their 12 broadcast streams in one contiguous block (in place cost them 10-20 %).
  int in_place = n <= HS_IN_PLACE_MAX_N;
  // When a column block of B over all of k fits in L2 beside the rest, the row blocks go
  // outermost: each (HS_MC, HS_NC) block of C then stays in cache across the k blocks instead of
  // travelling to memory and back once per k block (m is tens of thousands of rows in a 1x1
  // convolution over 16 images).
  // ResNet50's 1x1 layers with 256 to 1024 inputs and 64 to 256 outputs: 0.57-0.81 -> 0.54-0.69
  // ms per image each (layer profile, 16 images, medians of 3; the whole network moved within
  // its +-1 ms noise, 34.2 -> 34.0 ms). Larger B (ResNet50's conv5, VGG) keeps Goto's order.
  int rows_outer = (size_t)k * (size_t)(n < HS_NC ? n : HS_NC) <= HS_ROWS_OUTER_MAX_B;
  // k blocks of equal depth: ResNet50's 7x7 stem (k = 147) runs 74 + 73 deep rather than
  // 128 + 19, whose short block loads and stores every C tile for 19 steps of work.
  int kblocks = (k + HS_KC - 1) / HS_KC, kstep = kblocks > 0 ? (k + kblocks - 1) / kblocks : HS_KC;
  for (int n0 = 0; n0 < n; n0 += HS_NC) {
    int n1 = n - n0 < HS_NC ? n : n0 + HS_NC;
    if (rows_outer) {
      for (int i0 = 0; i0 < m; i0 += HS_MC) {
        int i1 = m - i0 < HS_MC ? m : i0 + HS_MC;
        for (int k0 = 0; k0 < k; k0 += kstep) {
          int kc = k - k0 < kstep ? k - k0 : kstep;
          HS_FN(block)(in_place, kc, a, lda, packed, k, c, ldc, k0 > 0, k0 + kc >= k, bias, residual, ldr, relu,
                       n0, n1, i0, i1, k0, ablock);
        }
      }
      continue;
    }
    for (int k0 = 0; k0 < k; k0 += kstep) {
      int kc = k - k0 < kstep ? k - k0 : kstep;
      for (int i0 = 0; i0 < m; i0 += HS_MC) {
        int i1 = m - i0 < HS_MC ? m : i0 + HS_MC;
        HS_FN(block)(in_place, kc, a, lda, packed, k, c, ldc, k0 > 0, k0 + kc >= k, bias, residual, ldr, relu, n0,
                     n1, i0, i1, k0, ablock);
      }
    }
  }
}

// ---- Winograd F(2x2, 3x3) transforms (Lavin & Gray, arXiv:1509.09308) ----------------------
// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], A^T = [1 1 1 0; 0 1 -1 -1].

#define HS_ZERO_RUN 256
static const float HS_FN(zeros)[HS_ZERO_RUN] = {0};

#define BT(a0, a1, a2, a3, o0, o1, o2, o3) \
  do {                                     \
    o0 = (a0) - (a2);                      \
    o1 = (a1) + (a2);                      \
    o2 = (a2) - (a1);                      \
    o3 = (a1) - (a3);                      \
  } while (0)

// Tile `global`'s image n and its first output row and column (F(2x2, 3x3): 2x2 outputs).
INLINE void HS_FN(tile_origin)(const hs_winograd_geometry *g, int global, int *n, int *y0, int *x0) {
  int within = global % g->tiles_per_image;
  *n = global / g->tiles_per_image;
  *y0 = 2 * (within / g->tiles_w);
  *x0 = 2 * (within % g->tiles_w);
}

void HS_FN(hs_winograd_input)(const hs_winograd_geometry *g, const float *input, int first, int count,
                              float *v, size_t ld) {
  const int c = g->c;
  const size_t stride = ld;  // between the 16 elements of one tile
  for (int tile = 0; tile < count; tile++) {
    int n, y0, x0;
    HS_FN(tile_origin)(g, first + tile, &n, &y0, &x0);
    y0 -= g->pad_top;
    x0 -= g->pad_left;
    const float *image = input + (size_t)n * g->h * g->w * c;
    float *out = v + (size_t)tile * c;
    for (int c0 = 0; c0 < c; c0 += HS_ZERO_RUN) {
      int run = c - c0 < HS_ZERO_RUN ? c - c0 : HS_ZERO_RUN;
      const float *d[16];
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
          int y = y0 + i, x = x0 + j;
          d[i * 4 + j] = (y >= 0 && y < g->h && x >= 0 && x < g->w) ? image + ((size_t)y * g->w + x) * c + c0
                                                                     : HS_FN(zeros);
        }
      float *o = out + c0;
      int ch = 0;
      for (; ch + HS_VW <= run; ch += HS_VW) {
        VEC r[4][4], t[4][4];
        for (int i = 0; i < 4; i++)  // rows of B^T d: combine the four rows of d
          BT(HS_FN(ld)(d[0 * 4 + i] + ch), HS_FN(ld)(d[1 * 4 + i] + ch), HS_FN(ld)(d[2 * 4 + i] + ch),
             HS_FN(ld)(d[3 * 4 + i] + ch), r[0][i], r[1][i], r[2][i], r[3][i]);
        for (int i = 0; i < 4; i++)  // (B^T d) B: combine the four columns of each row
          BT(r[i][0], r[i][1], r[i][2], r[i][3], t[i][0], t[i][1], t[i][2], t[i][3]);
        for (int i = 0; i < 4; i++)
          for (int j = 0; j < 4; j++) HS_FN(st)(o + (i * 4 + j) * stride + ch, t[i][j]);
      }
      for (; ch < run; ch++) {
        float r[4][4], t[4][4];
        for (int i = 0; i < 4; i++)
          BT(d[0 * 4 + i][ch], d[1 * 4 + i][ch], d[2 * 4 + i][ch], d[3 * 4 + i][ch], r[0][i], r[1][i], r[2][i],
             r[3][i]);
        for (int i = 0; i < 4; i++) BT(r[i][0], r[i][1], r[i][2], r[i][3], t[i][0], t[i][1], t[i][2], t[i][3]);
        for (int i = 0; i < 4; i++)
          for (int j = 0; j < 4; j++) o[(i * 4 + j) * stride + ch] = t[i][j];
      }
    }
  }
}

#define AT(a0, a1, a2, a3, o0, o1) \
  do {                             \
    o0 = (a0) + (a1) + (a2);       \
    o1 = (a1) - (a2) - (a3);       \
  } while (0)

void HS_FN(hs_winograd_output)(const hs_winograd_geometry *g, const float *m, int first, int count, size_t ld,
                               const float *bias, const float *residual, int relu, float *output) {
  const int k = g->k;
  const size_t stride = ld;
  for (int tile = 0; tile < count; tile++) {
    int n, y0, x0;
    HS_FN(tile_origin)(g, first + tile, &n, &y0, &x0);
    const float *p = m + (size_t)tile * k;
    // The tile's four output pixels (row-major dy, dx); NULL where they fall outside.
    size_t offset[4];
    int inside[4];
    for (int q = 0; q < 4; q++) {
      int y = y0 + q / 2, x = x0 + q % 2;
      inside[q] = y < g->oh && x < g->ow;
      offset[q] = (((size_t)n * g->oh + y) * g->ow + x) * k;
    }
    int ko = 0;
    for (; ko + HS_VW <= k; ko += HS_VW) {
      VEC r[2][4], y[2][2];
      for (int j = 0; j < 4; j++)  // rows of A^T M
        AT(HS_FN(ld)(p + (0 * 4 + j) * stride + ko), HS_FN(ld)(p + (1 * 4 + j) * stride + ko),
           HS_FN(ld)(p + (2 * 4 + j) * stride + ko), HS_FN(ld)(p + (3 * 4 + j) * stride + ko), r[0][j], r[1][j]);
      for (int i = 0; i < 2; i++) AT(r[i][0], r[i][1], r[i][2], r[i][3], y[i][0], y[i][1]);
      for (int q = 0; q < 4; q++) {
        if (!inside[q]) continue;
        VEC out = y[q / 2][q % 2];
        if (bias) out += HS_FN(ld)(bias + ko);
        if (residual) out += HS_FN(ld)(residual + offset[q] + ko);
        if (relu) out = HS_FN(relu)(out);
        HS_FN(st)(output + offset[q] + ko, out);
      }
    }
    for (; ko < k; ko++) {
      float r[2][4], y[2][2];
      for (int j = 0; j < 4; j++)
        AT(p[(0 * 4 + j) * stride + ko], p[(1 * 4 + j) * stride + ko], p[(2 * 4 + j) * stride + ko],
           p[(3 * 4 + j) * stride + ko], r[0][j], r[1][j]);
      for (int i = 0; i < 2; i++) AT(r[i][0], r[i][1], r[i][2], r[i][3], y[i][0], y[i][1]);
      for (int q = 0; q < 4; q++) {
        if (!inside[q]) continue;
        float out = y[q / 2][q % 2] + (bias ? bias[ko] : 0) + (residual ? residual[offset[q] + ko] : 0);
        if (relu && !(out > 0)) out = 0;
        output[offset[q] + ko] = out;
      }
    }
  }
}

#undef BT
#undef AT

// ---- Training's F(2x2, 3x3): the kernel transform and the transposed transforms of backward --
// Forward is Y = A^T [(G g G^T) .* (B^T d B)] A, summed over input channels by the GEMMs. Its
// gradients use the same matrices transposed (each a linear map of one factor of the product):
//   dZ tile  E = A e A^T       (4x4 from the tile's 2x2 of dY; e outside the output is 0)
//   dInput   d += B Q B^T      (Q = sum over output channels of U .* E: the GEMM E U^T)
//   dKernel  g += G^T R G      (R = sum over tiles of V .* E: the GEMM V^T E)
// Rows and columns are combined alike, so each 2D map is its 1D map applied twice:
//   A e   = (e0, e0 + e1, e0 - e1, -e1)          B q   = (q0, q1 - q2 + q3, q1 + q2 - q0, -q3)
//   G g   = (g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2)
//   G^T r = (r0 + (r1 + r2) / 2, (r1 - r2) / 2, (r1 + r2) / 2 + r3)

#define AE(e0, e1, o0, o1, o2, o3) \
  do {                             \
    o0 = (e0);                     \
    o1 = (e0) + (e1);              \
    o2 = (e0) - (e1);              \
    o3 = -(e1);                    \
  } while (0)
#define BQ(q0, q1, q2, q3, o0, o1, o2, o3) \
  do {                                     \
    o0 = (q0);                             \
    o1 = (q1) - (q2) + (q3);               \
    o2 = (q1) + (q2) - (q0);               \
    o3 = -(q3);                            \
  } while (0)
#define GG(g0, g1, g2, o0, o1, o2, o3) \
  do {                                 \
    o0 = (g0);                         \
    o1 = 0.5f * ((g0) + (g1) + (g2));  \
    o2 = 0.5f * ((g0) - (g1) + (g2));  \
    o3 = (g2);                         \
  } while (0)
#define GTR(r0, r1, r2, r3, o0, o1, o2)  \
  do {                                   \
    o0 = (r0) + 0.5f * ((r1) + (r2));    \
    o1 = 0.5f * ((r1) - (r2));           \
    o2 = 0.5f * ((r1) + (r2)) + (r3);    \
  } while (0)

// One element (vector or scalar, type T) of each map; `ld(i)` reads input i, `st(i, v)` writes.
#define HS_KERNEL_TRANSFORM(T, ld, st)                                           \
  do {                                                                           \
    T rows_[4][3], cols_[4][4];                                                  \
    for (int x = 0; x < 3; x++) /* G g: combine the kernel's three rows */       \
      GG(ld(x), ld(3 + x), ld(6 + x), rows_[0][x], rows_[1][x], rows_[2][x],     \
         rows_[3][x]);                                                           \
    for (int i = 0; i < 4; i++) /* (G g) G^T: combine each row's three columns */ \
      GG(rows_[i][0], rows_[i][1], rows_[i][2], cols_[i][0], cols_[i][1],        \
         cols_[i][2], cols_[i][3]);                                              \
    for (int i = 0; i < 4; i++)                                                  \
      for (int j = 0; j < 4; j++) st(i * 4 + j, cols_[i][j]);                    \
  } while (0)
#define HS_KERNEL_GRADIENT(T, ld, acc)                                           \
  do {                                                                           \
    T rows_[3][4], cols_[3][3];                                                  \
    for (int j = 0; j < 4; j++) /* G^T R: combine the four rows */               \
      GTR(ld(j), ld(4 + j), ld(8 + j), ld(12 + j), rows_[0][j], rows_[1][j],     \
          rows_[2][j]);                                                          \
    for (int i = 0; i < 3; i++) /* (G^T R) G: combine each row's four columns */ \
      GTR(rows_[i][0], rows_[i][1], rows_[i][2], rows_[i][3], cols_[i][0],       \
          cols_[i][1], cols_[i][2]);                                             \
    for (int i = 0; i < 3; i++)                                                  \
      for (int j = 0; j < 3; j++) acc(i * 3 + j, cols_[i][j]);                   \
  } while (0)

void HS_FN(hs_winograd_kernel)(const float *w, size_t plane, size_t count, float *u) {
  size_t at = 0;
#define LDV(i) HS_FN(ld)(w + (size_t)(i) * plane + at)
#define STV(i, v) HS_FN(st)(u + (size_t)(i) * plane + at, v)
  for (; at + HS_VW <= count; at += HS_VW) HS_KERNEL_TRANSFORM(VEC, LDV, STV);
#define LDS(i) w[(size_t)(i) * plane + at]
#define STS(i, v) u[(size_t)(i) * plane + at] = (v)
  for (; at < count; at++) HS_KERNEL_TRANSFORM(float, LDS, STS);
#undef LDV
#undef STV
#undef LDS
#undef STS
}

void HS_FN(hs_winograd_kernel_gradient)(const float *r, size_t plane, size_t count, float *dw) {
  size_t at = 0;
#define LDV(i) HS_FN(ld)(r + (size_t)(i) * plane + at)
#define ACCV(i, v) HS_FN(st)(dw + (size_t)(i) * plane + at, HS_FN(ld)(dw + (size_t)(i) * plane + at) + (v))
  for (; at + HS_VW <= count; at += HS_VW) HS_KERNEL_GRADIENT(VEC, LDV, ACCV);
#define LDS(i) r[(size_t)(i) * plane + at]
#define ACCS(i, v) dw[(size_t)(i) * plane + at] += (v)
  for (; at < count; at++) HS_KERNEL_GRADIENT(float, LDS, ACCS);
#undef LDV
#undef ACCV
#undef LDS
#undef ACCS
}

void HS_FN(hs_winograd_output_gradient)(const hs_winograd_geometry *g, const float *dy, int first, int count,
                                        float *e, size_t ld) {
  const int k = g->k;
  const size_t stride = ld;
  for (int tile = 0; tile < count; tile++) {
    int n, y0, x0;
    HS_FN(tile_origin)(g, first + tile, &n, &y0, &x0);
    const float *src[4];
    for (int q = 0; q < 4; q++) {
      int y = y0 + q / 2, x = x0 + q % 2;
      src[q] = (y < g->oh && x < g->ow) ? dy + (((size_t)n * g->oh + y) * g->ow + x) * k : NULL;
    }
    float *out = e + (size_t)tile * k;
    int ko = 0;
    for (; ko + HS_VW <= k; ko += HS_VW) {
      VEC d[4], r[4][2], t[4][4];
      for (int q = 0; q < 4; q++) d[q] = src[q] ? HS_FN(ld)(src[q] + ko) : HS_FN(zero)();
      for (int j = 0; j < 2; j++) AE(d[j], d[2 + j], r[0][j], r[1][j], r[2][j], r[3][j]);
      for (int i = 0; i < 4; i++) AE(r[i][0], r[i][1], t[i][0], t[i][1], t[i][2], t[i][3]);
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) HS_FN(st)(out + (i * 4 + j) * stride + ko, t[i][j]);
    }
    for (; ko < k; ko++) {
      float d[4], r[4][2], t[4][4];
      for (int q = 0; q < 4; q++) d[q] = src[q] ? src[q][ko] : 0;
      for (int j = 0; j < 2; j++) AE(d[j], d[2 + j], r[0][j], r[1][j], r[2][j], r[3][j]);
      for (int i = 0; i < 4; i++) AE(r[i][0], r[i][1], t[i][0], t[i][1], t[i][2], t[i][3]);
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) out[(i * 4 + j) * stride + ko] = t[i][j];
    }
  }
}

void HS_FN(hs_winograd_input_gradient)(const hs_winograd_geometry *g, const float *q, int first, int count,
                                       size_t ld, float *dx) {
  const int c = g->c;
  const size_t stride = ld;
  for (int tile = 0; tile < count; tile++) {
    int n, y0, x0;
    HS_FN(tile_origin)(g, first + tile, &n, &y0, &x0);
    y0 -= g->pad_top;
    x0 -= g->pad_left;
    float *dst[16];
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 4; j++) {
        int y = y0 + i, x = x0 + j;
        dst[i * 4 + j] =
            (y >= 0 && y < g->h && x >= 0 && x < g->w) ? dx + (((size_t)n * g->h + y) * g->w + x) * c : NULL;
      }
    const float *p = q + (size_t)tile * c;
    int ch = 0;
    for (; ch + HS_VW <= c; ch += HS_VW) {
      VEC r[4][4], t[4][4];
      for (int j = 0; j < 4; j++)
        BQ(HS_FN(ld)(p + (0 * 4 + j) * stride + ch), HS_FN(ld)(p + (1 * 4 + j) * stride + ch),
           HS_FN(ld)(p + (2 * 4 + j) * stride + ch), HS_FN(ld)(p + (3 * 4 + j) * stride + ch), r[0][j], r[1][j],
           r[2][j], r[3][j]);
      for (int i = 0; i < 4; i++) BQ(r[i][0], r[i][1], r[i][2], r[i][3], t[i][0], t[i][1], t[i][2], t[i][3]);
      for (int i = 0; i < 16; i++)
        if (dst[i]) HS_FN(st)(dst[i] + ch, HS_FN(ld)(dst[i] + ch) + t[i / 4][i % 4]);
    }
    for (; ch < c; ch++) {
      float r[4][4], t[4][4];
      for (int j = 0; j < 4; j++)
        BQ(p[(0 * 4 + j) * stride + ch], p[(1 * 4 + j) * stride + ch], p[(2 * 4 + j) * stride + ch],
           p[(3 * 4 + j) * stride + ch], r[0][j], r[1][j], r[2][j], r[3][j]);
      for (int i = 0; i < 4; i++) BQ(r[i][0], r[i][1], r[i][2], r[i][3], t[i][0], t[i][1], t[i][2], t[i][3]);
      for (int i = 0; i < 16; i++)
        if (dst[i]) dst[i][ch] += t[i / 4][i % 4];
    }
  }
}

#undef AE
#undef BQ
#undef GG
#undef GTR
#undef HS_KERNEL_TRANSFORM
#undef HS_KERNEL_GRADIENT

// ---- Winograd F(4x4, 3x3): 6x6 input patches, 36 products per 16 outputs ----------------------
// Points 0, 1, -1, 2, -2 and infinity (Lavin & Gray):
// B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
// A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]

#define BT6(a, o)                                          \
  do {                                                     \
    o[0] = 4 * (a[0]) - 5 * (a[2]) + (a[4]);               \
    o[1] = (a[3]) + (a[4]) - 4 * ((a[1]) + (a[2]));        \
    o[2] = 4 * ((a[1]) - (a[2])) + (a[4]) - (a[3]);        \
    o[3] = 2 * ((a[3]) - (a[1])) + (a[4]) - (a[2]);        \
    o[4] = 2 * ((a[1]) - (a[3])) + (a[4]) - (a[2]);        \
    o[5] = 4 * (a[1]) - 5 * (a[3]) + (a[5]);               \
  } while (0)

#define AT6(a, o)                                                   \
  do {                                                              \
    o[0] = (a[0]) + ((a[1]) + (a[2])) + ((a[3]) + (a[4]));          \
    o[1] = ((a[1]) - (a[2])) + 2 * ((a[3]) - (a[4]));               \
    o[2] = ((a[1]) + (a[2])) + 4 * ((a[3]) + (a[4]));               \
    o[3] = ((a[1]) - (a[2])) + 8 * ((a[3]) - (a[4])) + (a[5]);      \
  } while (0)

void HS_FN(hs_winograd4_input)(const hs_winograd_geometry *g, const float *input, int first, int count,
                               float *v) {
  const int c = g->c;
  const size_t stride = (size_t)count * c;  // between the 36 elements of one tile
  for (int tile = 0; tile < count; tile++) {
    int global = first + tile;
    int n = global / g->tiles_per_image, within = global % g->tiles_per_image;
    int y0 = 4 * (within / g->tiles_w) - g->pad_top, x0 = 4 * (within % g->tiles_w) - g->pad_left;
    const float *image = input + (size_t)n * g->h * g->w * c;
    float *out = v + (size_t)tile * c;
    for (int c0 = 0; c0 < c; c0 += HS_ZERO_RUN) {
      int run = c - c0 < HS_ZERO_RUN ? c - c0 : HS_ZERO_RUN;
      const float *d[36];
      for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
          int y = y0 + i, x = x0 + j;
          d[i * 6 + j] = (y >= 0 && y < g->h && x >= 0 && x < g->w) ? image + ((size_t)y * g->w + x) * c + c0
                                                                     : HS_FN(zeros);
        }
      float *o = out + c0;
      int ch = 0;
      for (; ch + HS_VW <= run; ch += HS_VW) {
        VEC r[6][6];  // r[a][j] = (B^T d)[a][j]
        for (int j = 0; j < 6; j++) {
          VEC col[6], t[6];
          for (int i = 0; i < 6; i++) col[i] = HS_FN(ld)(d[i * 6 + j] + ch);
          BT6(col, t);
          for (int a = 0; a < 6; a++) r[a][j] = t[a];
        }
        for (int a = 0; a < 6; a++) {
          VEC t[6];
          BT6(r[a], t);
          for (int b = 0; b < 6; b++) HS_FN(st)(o + (a * 6 + b) * stride + ch, t[b]);
        }
      }
      for (; ch < run; ch++) {
        float r[6][6];
        for (int j = 0; j < 6; j++) {
          float col[6], t[6];
          for (int i = 0; i < 6; i++) col[i] = d[i * 6 + j][ch];
          BT6(col, t);
          for (int a = 0; a < 6; a++) r[a][j] = t[a];
        }
        for (int a = 0; a < 6; a++) {
          float t[6];
          BT6(r[a], t);
          for (int b = 0; b < 6; b++) o[(a * 6 + b) * stride + ch] = t[b];
        }
      }
    }
  }
}

void HS_FN(hs_winograd4_output)(const hs_winograd_geometry *g, const float *m, int first, int count,
                                const float *bias, const float *residual, int relu, float *output) {
  const int k = g->k;
  const size_t stride = (size_t)count * k;
  for (int tile = 0; tile < count; tile++) {
    int global = first + tile;
    int n = global / g->tiles_per_image, within = global % g->tiles_per_image;
    int y0 = 4 * (within / g->tiles_w), x0 = 4 * (within % g->tiles_w);
    const float *p = m + (size_t)tile * k;
    size_t offset[16];
    int inside[16];
    for (int q = 0; q < 16; q++) {
      int y = y0 + q / 4, x = x0 + q % 4;
      inside[q] = y < g->oh && x < g->ow;
      offset[q] = (((size_t)n * g->oh + y) * g->ow + x) * k;
    }
    int ko = 0;
    for (; ko + HS_VW <= k; ko += HS_VW) {
      VEC r[4][6];  // r[a][j] = (A^T M)[a][j]
      for (int j = 0; j < 6; j++) {
        VEC col[6], t[4];
        for (int i = 0; i < 6; i++) col[i] = HS_FN(ld)(p + (i * 6 + j) * stride + ko);
        AT6(col, t);
        for (int a = 0; a < 4; a++) r[a][j] = t[a];
      }
      for (int a = 0; a < 4; a++) {
        VEC y[4];
        AT6(r[a], y);
        for (int b = 0; b < 4; b++) {
          int q = a * 4 + b;
          if (!inside[q]) continue;
          VEC out = y[b];
          if (bias) out += HS_FN(ld)(bias + ko);
          if (residual) out += HS_FN(ld)(residual + offset[q] + ko);
          if (relu) out = HS_FN(relu)(out);
          HS_FN(st)(output + offset[q] + ko, out);
        }
      }
    }
    for (; ko < k; ko++) {
      float r[4][6];
      for (int j = 0; j < 6; j++) {
        float col[6], t[4];
        for (int i = 0; i < 6; i++) col[i] = p[(i * 6 + j) * stride + ko];
        AT6(col, t);
        for (int a = 0; a < 4; a++) r[a][j] = t[a];
      }
      for (int a = 0; a < 4; a++) {
        float y[4];
        AT6(r[a], y);
        for (int b = 0; b < 4; b++) {
          int q = a * 4 + b;
          if (!inside[q]) continue;
          float out = y[b] + (bias ? bias[ko] : 0) + (residual ? residual[offset[q] + ko] : 0);
          if (relu && !(out > 0)) out = 0;
          output[offset[q] + ko] = out;
        }
      }
    }
  }
}

#undef BT6
#undef AT6
#undef INLINE
#undef UNROLL
