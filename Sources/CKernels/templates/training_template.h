// The body of the training kernels, compiled once per instruction set: isa_training_avx512.c,
// isa_training_avx2.c and isa_training_portable.c define HS_TRAIN_ISA (name suffix),
// HS_TRAIN_VW (floats per vector) and HS_TRAIN_FMA (1 where the target has fused multiply-add),
// give every function their target and include this file.
//
// No contraction of a * b + c into one rounding: the optimiser update must give the scalar
// definition's bits at every width. The products' sums use fused multiply-add explicitly
// (TMADD) where the target has it, as every BLAS does; their order is not Keras' anyway.
#pragma clang fp contract(off)

#define HS_TCAT2(a, b) a##_##b
#define HS_TCAT(a, b) HS_TCAT2(a, b)
#define HS_TFN(name) HS_TCAT(name, HS_TRAIN_ISA)
#define TVEC HS_TFN(tvec)

typedef float TVEC __attribute__((vector_size(HS_TRAIN_VW * 4), aligned(4)));

#define TINLINE static inline __attribute__((always_inline))
#define TUNROLL _Pragma("clang loop unroll(full)")
#if HS_TRAIN_FMA
#define TMADD(a, b, c) __builtin_elementwise_fma(a, b, c)
#define TMADDS(a, b, c) __builtin_fmaf(a, b, c)
#else
#define TMADD(a, b, c) ((a) * (b) + (c))
#define TMADDS(a, b, c) ((a) * (b) + (c))
#endif
// HS_CASES(n, X) expands X(1) ... X(n): switch cases that turn a tile's run-time width into a
// constant, so each width gets its own fully unrolled tile.
#define HS_CASES1(X) X(1)
#define HS_CASES2(X) HS_CASES1(X) X(2)
#define HS_CASES3(X) HS_CASES2(X) X(3)
#define HS_CASES4(X) HS_CASES3(X) X(4)
#define HS_CASES5(X) HS_CASES4(X) X(5)
#define HS_CASES6(X) HS_CASES5(X) X(6)
#define HS_CASES_(n, X) HS_CASES##n(X)
#define HS_CASES(n, X) HS_CASES_(n, X)

TINLINE TVEC HS_TFN(tld)(const float *p) { return *(const TVEC *)p; }
// Every lane x. Not (TVEC){0} + x: under strict IEEE semantics that is an addition the compiler
// must perform (it turns -0 into +0): a scalar add and a shuffle in the backward product's inner
// loop instead of one broadcast load, which made the kernel gradient 25-30 % slower.
TINLINE TVEC HS_TFN(tsplat)(float x) {
  TVEC v;
  TUNROLL
  for (int i = 0; i < HS_TRAIN_VW; i++) v[i] = x;
  return v;
}
TINLINE void HS_TFN(tst)(float *p, TVEC x) { *(TVEC *)p = x; }

// The sum of a vector's lanes, halves added pairwise.
typedef float HS_TFN(half4) __attribute__((vector_size(16), aligned(4)));
TINLINE float HS_TFN(hsum)(TVEC v) {
#if HS_TRAIN_VW == 16
  typedef float v8 __attribute__((vector_size(32), aligned(4)));
  v8 h = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  HS_TFN(half4) q = __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
#elif HS_TRAIN_VW == 8
  HS_TFN(half4) q = __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
#else
  HS_TFN(half4) q = v;
#endif
  return (q[0] + q[2]) + (q[1] + q[3]);
}

TINLINE void HS_TFN(adam_span)(float *w, const float *g, float *m, float *v, size_t n, float alpha, float keep1,
                               float keep2, float eps, float decay, float lr) {
  const int decayed = decay != 0;
  TVEC d = (TVEC){0} + decay, l = (TVEC){0} + lr;
  TVEC k1 = (TVEC){0} + keep1, k2 = (TVEC){0} + keep2, a = (TVEC){0} + alpha, e = (TVEC){0} + eps;
  size_t i = 0;
  for (; i + HS_TRAIN_VW <= n; i += HS_TRAIN_VW) {
    TVEC gi = HS_TFN(tld)(g + i), mi = HS_TFN(tld)(m + i), vi = HS_TFN(tld)(v + i), wi = HS_TFN(tld)(w + i);
    if (decayed) wi = wi - wi * d * l;
    mi += (gi - mi) * k1;
    vi += (gi * gi - vi) * k2;
    HS_TFN(tst)(m + i, mi);
    HS_TFN(tst)(v + i, vi);
    HS_TFN(tst)(w + i, wi - mi * a / (__builtin_elementwise_sqrt(vi) + e));
  }
  for (; i < n; i++) {
    float gi = g[i];
    if (decayed) w[i] -= w[i] * decay * lr;
    m[i] += (gi - m[i]) * keep1;
    v[i] += (gi * gi - v[i]) * keep2;
    w[i] -= m[i] * alpha / (__builtin_sqrtf(v[i]) + eps);
  }
}

void HS_TFN(hs_adam_update)(float *w, const float *g, float *m, float *v, size_t n, float alpha, float keep1,
                            float keep2, float eps, float decay, float lr) {
  HS_TFN(adam_span)(w, g, m, v, n, alpha, keep1, keep2, eps, decay, lr);
}

// ---- A dense layer's products with batch rows given by pointers --------------------------
// The kernel is stored as Keras stores it, w (k, n): row p holds the n units' weights of input
// p. Both products run their vectors along the units and broadcast one input at a time:
//   forward   z[i][j ..] = bias[j ..] + sum_p x[i][p] w[p][j ..]    a tile of rows by up to
//             HS_TRAIN_FNV vectors of units; each sum runs over p in order, one multiply-add per
//             input, so blocking never changes its bits;
//   backward  dw[p][j ..] = sum_i x[i][p] dz[i][j ..]    a tile of inputs by up to HS_TRAIN_BNV
//             vectors of units, stored, or applied by Adam a block of inputs at a time.
// A tile of nv vectors of units takes HS_TRAIN_TILE_ROWS(nv) rows (inputs): narrow layers get
// more of them, so that every tile keeps enough independent sums in flight.
// The last vector of a row of w may run past the n units: there it reads the next row's first
// weights (lanes that are never stored), and the last row is read from a padded copy.
//
// Why this way round (the transposed kernel with vectors along k read the batch's rows once per
// 6 units, 8 times per step from L2; Docs/performance.md):
//   forward   rows in blocks of HS_TRAIN_FRB (their partial sums wait in zp between k blocks),
//             k in blocks of HS_TRAIN_FKB: a chunk of units' weights over one block (128 inputs x
//             48 units, 24 KB) stays in L1 while every row tile of the block reads it;
//   backward  k in blocks of HS_TRAIN_BKB: the batch's inputs over one block are copied side by
//             side (rows 8 KB apart in the feature matrix fall in the same L1 sets and evict one
//             another), the block's gradient (64 x n) is stored and then applied by Adam in one
//             pass over the block's weights and moments, which lie one after another in memory.
#define HS_TRAIN_FRB 32
#define HS_TRAIN_FKB 128
#define HS_TRAIN_BKB 64
_Static_assert(HS_TRAIN_FRB % HS_TRAIN_MAXR == 0, "row blocks hold whole row tiles");
_Static_assert(HS_TRAIN_BKB % HS_TRAIN_MAXR == 0, "input blocks hold whole input tiles");
_Static_assert(HS_TRAIN_BNV == HS_TRAIN_FNV, "both products' tiles share one step (outer_add)");

// acc[i][v] += xs[i] * vec[v]: R scalars by nv vectors (constants after inlining), the step of
// both products' tiles. With up to 3 vectors they stay in registers while the scalars are
// broadcast; with more, the R broadcasts stay and the vectors stream.
TINLINE void HS_TFN(outer_add)(const int nv, const int R, const float *vec, const float *xs,
                               TVEC acc[HS_TRAIN_MAXR][HS_TRAIN_FNV]) {
  if (nv <= 3) {
    TVEC d[HS_TRAIN_FNV];
    TUNROLL
    for (int v = 0; v < HS_TRAIN_FNV; v++)
      if (v < nv) d[v] = HS_TFN(tld)(vec + v * HS_TRAIN_VW);
    TUNROLL
    for (int i = 0; i < HS_TRAIN_MAXR; i++)
      if (i < R) {
        TVEC b = HS_TFN(tsplat)(xs[i]);
        TUNROLL
        for (int v = 0; v < HS_TRAIN_FNV; v++)
          if (v < nv) acc[i][v] = TMADD(b, d[v], acc[i][v]);
      }
  } else {
    TVEC b[HS_TRAIN_MAXR];
    TUNROLL
    for (int i = 0; i < HS_TRAIN_MAXR; i++)
      if (i < R) b[i] = HS_TFN(tsplat)(xs[i]);
    TUNROLL
    for (int v = 0; v < HS_TRAIN_FNV; v++)
      if (v < nv) {
        TVEC d = HS_TFN(tld)(vec + v * HS_TRAIN_VW);
        TUNROLL
        for (int i = 0; i < HS_TRAIN_MAXR; i++)
          if (i < R) acc[i][v] = TMADD(b[i], d, acc[i][v]);
      }
  }
}

// Forward tile: rows x[0 ..< R] (rows past mr repeat row 0 and are not stored) by nv vectors of
// units (nv and R constants after inlining), over inputs p0 ..< p1, input p's weights at
// wp + (p - p0) ws. The sums start from zero (first) or from zp (row stride np) and go back there.
TINLINE void HS_TFN(forward_tile)(const int nv, const int R, int mr, const float *const *x, int p0, int p1,
                                  const float *wp, size_t ws, float *zp, int np, int first) {
  TVEC acc[HS_TRAIN_MAXR][HS_TRAIN_FNV];
  const float *a[HS_TRAIN_MAXR];
  TUNROLL
  for (int i = 0; i < HS_TRAIN_MAXR; i++) {
    a[i] = x[i < mr ? i : 0];
    TUNROLL
    for (int v = 0; v < HS_TRAIN_FNV; v++)
      acc[i][v] = first || v >= nv || i >= R ? (TVEC){0}
                                              : HS_TFN(tld)(zp + (size_t)(i < mr ? i : 0) * np + v * HS_TRAIN_VW);
  }
  for (int p = p0; p < p1; p++) {
    float xs[HS_TRAIN_MAXR];
    TUNROLL
    for (int i = 0; i < HS_TRAIN_MAXR; i++) xs[i] = a[i][p];
    HS_TFN(outer_add)(nv, R, wp + (size_t)(p - p0) * ws, xs, acc);
  }

  TUNROLL
  for (int i = 0; i < HS_TRAIN_MAXR; i++)
    if (i < R && i < mr)
      TUNROLL
      for (int v = 0; v < HS_TRAIN_FNV; v++)
        if (v < nv) HS_TFN(tst)(zp + (size_t)i * np + v * HS_TRAIN_VW, acc[i][v]);
}

void HS_TFN(hs_dense_forward_rows)(int m, int n, int k, const float *const *x, const float *w, const float *bias,
                                   float *z, int ldz) {
  const int np = (n + HS_TRAIN_VW - 1) / HS_TRAIN_VW * HS_TRAIN_VW;
  const int chunk = HS_TRAIN_FNV * HS_TRAIN_VW;
  float *zp = aligned_alloc(64, (size_t)HS_TRAIN_FRB * np * sizeof(float));
  // The last row of w, padded: its last vector must not read past w.
  float *last = aligned_alloc(64, (size_t)np * sizeof(float));
  memset(last, 0, (size_t)np * sizeof(float));
  if (k > 0) memcpy(last, w + (size_t)(k - 1) * n, (size_t)n * sizeof(float));
  const int pad = n % HS_TRAIN_VW != 0;
  for (int i0 = 0; i0 < m; i0 += HS_TRAIN_FRB) {
    const int i1 = m - i0 < HS_TRAIN_FRB ? m : i0 + HS_TRAIN_FRB;
    if (k == 0) memset(zp, 0, (size_t)HS_TRAIN_FRB * np * sizeof(float));
    for (int p0 = 0; p0 < k; p0 += HS_TRAIN_FKB) {
      const int p1 = k - p0 < HS_TRAIN_FKB ? k : p0 + HS_TRAIN_FKB;
      // Inputs p0 ..< pe from w in place; input k - 1 from `last` when w's rows are not whole vectors.
      const int pe = pad && p1 == k ? k - 1 : p1;
      for (int c = 0; c < n; c += chunk) {
        const int nv = (n - c < chunk ? n - c + HS_TRAIN_VW - 1 : chunk) / HS_TRAIN_VW;
        switch (nv) {
#define HS_FORWARD_CASE(cs)                                                                                     \
  case cs:                                                                                                      \
    for (int i = i0; i < i1; i += HS_TRAIN_TILE_ROWS(cs)) {                                                     \
      const int mr = i1 - i < HS_TRAIN_TILE_ROWS(cs) ? i1 - i : HS_TRAIN_TILE_ROWS(cs);                         \
      float *zt = zp + (size_t)(i - i0) * np + c;                                                               \
      if (pe > p0)                                                                                              \
        HS_TFN(forward_tile)(cs, HS_TRAIN_TILE_ROWS(cs), mr, x + i, p0, pe, w + (size_t)p0 * n + c, (size_t)n, zt, \
                             np, p0 == 0);                                                                      \
      if (pe < p1) HS_TFN(forward_tile)(cs, HS_TRAIN_TILE_ROWS(cs), mr, x + i, k - 1, k, last + c, 0, zt, np, pe == 0); \
    }                                                                                                           \
    break;
          HS_CASES(HS_TRAIN_FNV, HS_FORWARD_CASE)
#undef HS_FORWARD_CASE
        }
      }
    }
    for (int i = i0; i < i1; i++)
      for (int j = 0; j < n; j++) z[(size_t)i * ldz + j] = bias[j] + zp[(size_t)(i - i0) * np + j];
  }
  free(zp);
  free(last);
}

// Lanes 0 ..< lanes of a, the rest of b.
typedef int HS_TFN(tivec) __attribute__((vector_size(HS_TRAIN_VW * 4)));
TINLINE TVEC HS_TFN(blend)(TVEC a, TVEC b, int lanes) {
  HS_TFN(tivec) index;
  TUNROLL
  for (int l = 0; l < HS_TRAIN_VW; l++) index[l] = l;
  HS_TFN(tivec) keep = index < (HS_TFN(tivec)){0} + lanes;
  return (TVEC)(((HS_TFN(tivec))a & keep) | ((HS_TFN(tivec))b & ~keep));
}

// Backward tile: inputs p ..< p + pr of R (inputs past pr repeat the first and are not stored) by
// nv vectors of units (nv and R constants after inlining), summed over the m rows; row r's inputs
// at xb + r ldx, dZ's (padded) row r at dz + r np; stored at g + q ldg for input p + q, units past
// n left alone: for inputs q < spill by storing a whole last vector with the entries past the
// units read and written back, otherwise lane by lane.
TINLINE void HS_TFN(backward_tile)(const int nv, const int R, int pr, int m, const float *xb, int ldx,
                                   const float *dz, int np, float *g, int ldg, int units, int spill) {
  TVEC acc[HS_TRAIN_MAXR][HS_TRAIN_FNV];
  TUNROLL
  for (int q = 0; q < HS_TRAIN_MAXR; q++)
    TUNROLL
    for (int v = 0; v < HS_TRAIN_BNV; v++) acc[q][v] = (TVEC){0};
  for (int r = 0; r < m; r++) {
    const float *xr = xb + (size_t)r * ldx;
    float xs[HS_TRAIN_MAXR];
    TUNROLL
    for (int q = 0; q < HS_TRAIN_MAXR; q++) xs[q] = xr[q < pr ? q : 0];
    HS_TFN(outer_add)(nv, R, dz + (size_t)r * np, xs, acc);
  }

  TUNROLL
  for (int q = 0; q < HS_TRAIN_MAXR; q++)
    if (q < R && q < pr)
      TUNROLL
      for (int v = 0; v < HS_TRAIN_BNV; v++)
        if (v < nv) {
          float *gq = g + (size_t)q * ldg + v * HS_TRAIN_VW;
          const int lanes = units - v * HS_TRAIN_VW;
          if (lanes >= HS_TRAIN_VW)
            HS_TFN(tst)(gq, acc[q][v]);
          else if (q < spill)
            // The lanes past the units are the next row's first entries: stored back unchanged.
            HS_TFN(tst)(gq, HS_TFN(blend)(acc[q][v], HS_TFN(tld)(gq), lanes));
          else
            for (int l = 0; l < lanes; l++) gq[l] = acc[q][v][l];
        }
}

void HS_TFN(hs_dense_backward_rows)(int m, int n, int k, const float *const *x, const float *dz, int ldz,
                                    float *dw, float *w, float *mom, float *vel, const hs_adam_coefficients *c) {
  const int np = (n + HS_TRAIN_VW - 1) / HS_TRAIN_VW * HS_TRAIN_VW;
  const int chunk = HS_TRAIN_BNV * HS_TRAIN_VW;
  // dZ with its rows padded to whole vectors (zeros past n).
  float *dzp = aligned_alloc(64, ((size_t)m * np + 1) * sizeof(float));
  memset(dzp, 0, ((size_t)m * np + 1) * sizeof(float));
  for (int r = 0; r < m; r++) memcpy(dzp + (size_t)r * np, dz + (size_t)r * ldz, (size_t)n * sizeof(float));
  float *xp = aligned_alloc(64, ((size_t)m * HS_TRAIN_BKB + 1) * sizeof(float));
  // With Adam, one block's gradient (HS_TRAIN_BKB x n) is stored here and applied at once, in one
  // tight loop: square root and division then overlap across vectors.
  float *gb = dw ? 0 : aligned_alloc(64, ((size_t)HS_TRAIN_BKB * n + HS_TRAIN_VW) * sizeof(float));
  for (int p0 = 0; p0 < k; p0 += HS_TRAIN_BKB) {
    const int p1 = k - p0 < HS_TRAIN_BKB ? k : p0 + HS_TRAIN_BKB;
    for (int r = 0; r < m; r++) memcpy(xp + (size_t)r * HS_TRAIN_BKB, x[r] + p0, (size_t)(p1 - p0) * sizeof(float));
    float *g = dw ? dw + (size_t)p0 * n : gb;
    for (int cc = 0; cc < n; cc += chunk) {
      const int nv = (n - cc < chunk ? n - cc + HS_TRAIN_VW - 1 : chunk) / HS_TRAIN_VW;
      switch (nv) {
#define HS_BACKWARD_CASE(cs)                                                                                      \
  case cs:                                                                                                        \
    for (int p = p0; p < p1; p += HS_TRAIN_TILE_ROWS(cs)) {                                                       \
      const int pr = p1 - p < HS_TRAIN_TILE_ROWS(cs) ? p1 - p : HS_TRAIN_TILE_ROWS(cs);                           \
      HS_TFN(backward_tile)(cs, HS_TRAIN_TILE_ROWS(cs), pr, m, xp + (p - p0), HS_TRAIN_BKB, dzp + cc, np,         \
                            g + (size_t)(p - p0) * n + cc, n, n - cc, dw && p + pr == k ? pr - 1 : pr);           \
    }                                                                                                             \
    break;
        HS_CASES(HS_TRAIN_BNV, HS_BACKWARD_CASE)
#undef HS_BACKWARD_CASE
      }
    }
    if (!dw) {
      size_t o = (size_t)p0 * n;
      HS_TFN(adam_span)(w + o, gb, mom + o, vel + o, (size_t)(p1 - p0) * n, c->alpha, c->keep1, c->keep2, c->eps,
                        c->decay, c->lr);
    }
  }
  free(dzp);
  free(xp);
  free(gb);
}
