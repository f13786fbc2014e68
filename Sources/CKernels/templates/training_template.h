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
// The kernel is stored transposed, wt (n, k): row j holds unit j's weights over the k inputs,
// so both products run their vectors along k, where x's rows and wt's rows are contiguous,
// whatever the number of units n:
//   forward   z[i][j] = bias[j] + <x[i], wt[j]>     MR x NJ dot products at once, each a vector
//             of partial sums reduced at the end;
//   backward  dwt[j][p ..] = sum_i dz[i][j] x[i][p ..]    NJ rows x PV vectors of wt at once,
//             each a vector of k's, stored, or applied by Adam a k block at a time.
// The last k % HS_TRAIN_VW inputs go one at a time.
//
// Blocking (the products are small, 32 x 2048 x n per step, and memory decides their speed):
//   forward   rows in blocks of HS_TRAIN_FRB, k in blocks of HS_TRAIN_FKB: a unit tile's weights
//             over one k block (6 units x 512 floats, 12 KB) stay in L1 while every row tile of
//             the block reads them; the tiles' vector sums wait in `saved` between k blocks, so
//             every sum is the same sequence of operations as without blocks (the same bits);
//   backward  k in blocks of HS_TRAIN_BKB: the batch's rows over one block (32 x 192 floats,
//             24 KB) stay in L1 while every unit tile reads them, instead of the whole rows
//             (256 KB) streaming through L1 once per unit tile. The chunks of PV vectors are the
//             same as without blocks (HS_TRAIN_BKB is a multiple of every build's chunk).
#define HS_TRAIN_FRB 32
#define HS_TRAIN_FKB 512
#define HS_TRAIN_BKB 192
_Static_assert(HS_TRAIN_FRB % HS_TRAIN_FMR == 0, "row blocks hold whole row tiles");
_Static_assert(HS_TRAIN_FKB % HS_TRAIN_VW == 0, "k blocks hold whole vectors");
_Static_assert(HS_TRAIN_BKB % (HS_TRAIN_BPV * HS_TRAIN_VW) == 0, "k blocks hold whole chunks");

// Forward tile: rows x[0 ..< HS_TRAIN_FMR] (rows past mr repeat row 0 and are not stored) by
// units wt[0 ..< nj], nj a constant after inlining, over inputs p0 ..< p1 (whole vectors). The
// sums start from zero (first) or from `saved`; after the last block (last) they are reduced,
// the tail inputs kv ..< k added, and z written; otherwise they go back to `saved`.
TINLINE void HS_TFN(forward_tile)(const int nj, int mr, int k, int p0, int p1, int first, int last,
                                  const float *const *x, const float *wb, const float *wt, TVEC *saved,
                                  const float *bias, float *z, int ldz, const float *const *next, int nr) {
  TVEC acc[HS_TRAIN_FMR][HS_TRAIN_FNJ];
  const float *a[HS_TRAIN_FMR];
  TUNROLL
  for (int i = 0; i < HS_TRAIN_FMR; i++) {
    a[i] = x[i < mr ? i : 0];
    TUNROLL
    for (int j = 0; j < HS_TRAIN_FNJ; j++) acc[i][j] = first ? (TVEC){0} : saved[i * HS_TRAIN_FNJ + j];
  }
  for (int p = p0; p < p1; p += HS_TRAIN_VW) {
    TVEC xv[HS_TRAIN_FMR];
    TUNROLL
    for (int i = 0; i < HS_TRAIN_FMR; i++) xv[i] = HS_TFN(tld)(a[i] + p);
    // The next rows are read from memory while these compute (they are far apart in the
    // feature matrix, where the hardware prefetcher does not look ahead of a row's start).
    if (next)
      TUNROLL
      for (int i = 0; i < HS_TRAIN_FMR; i++)
        if (i < nr) __builtin_prefetch(next[i] + p, 0, 2);
    TUNROLL
    for (int j = 0; j < HS_TRAIN_FNJ; j++)
      if (j < nj) {
        TVEC wv = HS_TFN(tld)(wb + (size_t)j * HS_TRAIN_FKB + (p - p0));
        TUNROLL
        for (int i = 0; i < HS_TRAIN_FMR; i++) acc[i][j] = TMADD(xv[i], wv, acc[i][j]);
      }
  }
  if (!last) {
    TUNROLL
    for (int i = 0; i < HS_TRAIN_FMR; i++)
      TUNROLL
      for (int j = 0; j < HS_TRAIN_FNJ; j++) saved[i * HS_TRAIN_FNJ + j] = acc[i][j];
    return;
  }
  const int kv = k - k % HS_TRAIN_VW;
  TUNROLL
  for (int i = 0; i < HS_TRAIN_FMR; i++)
    if (i < mr)
      TUNROLL
      for (int j = 0; j < HS_TRAIN_FNJ; j++)
        if (j < nj) {
          float s = HS_TFN(hsum)(acc[i][j]);
          for (int p = kv; p < k; p++) s += a[i][p] * wt[(size_t)j * k + p];
          z[(size_t)i * ldz + j] = bias[j] + s;
        }
}

void HS_TFN(hs_dense_forward_rows)(int m, int n, int k, const float *const *x, const float *wt, const float *bias,
                                   float *z, int ldz) {
  const int kv = k - k % HS_TRAIN_VW;
  const int blocks = kv == 0 ? 1 : (kv + HS_TRAIN_FKB - 1) / HS_TRAIN_FKB;
  TVEC saved[HS_TRAIN_FRB * HS_TRAIN_FNJ];
  float wb[HS_TRAIN_FNJ * HS_TRAIN_FKB] __attribute__((aligned(64)));
  for (int i0 = 0; i0 < m; i0 += HS_TRAIN_FRB) {
    const int i1 = m - i0 < HS_TRAIN_FRB ? m : i0 + HS_TRAIN_FRB;
    for (int j = 0; j < n; j += HS_TRAIN_FNJ) {
      const float *w_ = wt + (size_t)j * k;
      const int nj = n - j < HS_TRAIN_FNJ ? n - j : HS_TRAIN_FNJ;
      for (int b = 0; b < blocks; b++) {
        const int p0 = b * HS_TRAIN_FKB, p1 = kv - p0 < HS_TRAIN_FKB ? kv : p0 + HS_TRAIN_FKB;
        for (int u = 0; u < nj; u++) memcpy(wb + u * HS_TRAIN_FKB, w_ + (size_t)u * k + p0, (size_t)(p1 - p0) * sizeof(float));
        for (int i = i0; i < i1; i += HS_TRAIN_FMR) {
          int mr = m - i < HS_TRAIN_FMR ? m - i : HS_TRAIN_FMR;
          float *z_ = z + (size_t)i * ldz + j;
          TVEC *s_ = saved + (i - i0) * HS_TRAIN_FNJ;
          // The first unit tile of a row block brings the next row tile's rows in.
          int nr = j == 0 && i + HS_TRAIN_FMR < m ? m - i - HS_TRAIN_FMR : 0;
          const float *const *next = nr > 0 ? x + i + HS_TRAIN_FMR : 0;
          switch (nj) {
#define HS_FORWARD_CASE(c)                                                                                   \
  case c:                                                                                                    \
    HS_TFN(forward_tile)(c, mr, k, p0, p1, b == 0, b == blocks - 1, x + i, wb, w_, s_, bias + j, z_, ldz, next, \
                         nr);                                                                                \
    break;
            HS_CASES(HS_TRAIN_FNJ, HS_FORWARD_CASE)
#undef HS_FORWARD_CASE
          }
        }
      }
    }
  }
}

// Backward tile: units j0 ..< j0 + nj (nj a constant after inlining) by k columns p0 + [0 ..<
// pv vectors] (vectors past pv repeat the first and are not stored), summed over the m rows,
// row r's inputs at xb + r ldx; stored at dwt + j ldw + p0.
TINLINE void HS_TFN(backward_tile)(const int nj, int pv, int m, const float *xb, int ldx, int p0, const float *dz,
                                   int ldz, float *dwt, int ldw) {
  TVEC acc[HS_TRAIN_BNJ][HS_TRAIN_BPV];
  TUNROLL
  for (int j = 0; j < HS_TRAIN_BNJ; j++)
    TUNROLL
    for (int v = 0; v < HS_TRAIN_BPV; v++) acc[j][v] = (TVEC){0};
  for (int r = 0; r < m; r++) {
    const float *xr = xb + (size_t)r * ldx;
    TVEC xv[HS_TRAIN_BPV];
    TUNROLL
    for (int v = 0; v < HS_TRAIN_BPV; v++) xv[v] = HS_TFN(tld)(xr + (v < pv ? v : 0) * HS_TRAIN_VW);
    TUNROLL
    for (int j = 0; j < HS_TRAIN_BNJ; j++)
      if (j < nj) {
        TVEC s = HS_TFN(tsplat)(dz[(size_t)r * ldz + j]);
        TUNROLL
        for (int v = 0; v < HS_TRAIN_BPV; v++) acc[j][v] = TMADD(s, xv[v], acc[j][v]);
      }
  }
  TUNROLL
  for (int j = 0; j < HS_TRAIN_BNJ; j++)
    if (j < nj)
      TUNROLL
      for (int v = 0; v < HS_TRAIN_BPV; v++)
        if (v < pv) HS_TFN(tst)(dwt + (size_t)j * ldw + p0 + v * HS_TRAIN_VW, acc[j][v]);
}

void HS_TFN(hs_dense_backward_rows)(int m, int n, int k, const float *const *x, const float *dz, int ldz,
                                    float *dwt, float *wt, float *mom, float *vel, const hs_adam_coefficients *c) {
  const int kv = k - k % HS_TRAIN_VW;
  float *xp = kv > 0 ? aligned_alloc(64, (size_t)m * HS_TRAIN_BKB * sizeof(float)) : 0;
  // With Adam, one k block of the gradient (n x HS_TRAIN_BKB, 34 KB for 44 units) is stored here
  // and applied at once, in one tight loop per unit: square root and division then overlap
  // across vectors (an update after every tile stalled the products behind them; 10 % slower).
  float *gb = kv > 0 && !dwt ? aligned_alloc(64, (size_t)n * HS_TRAIN_BKB * sizeof(float)) : 0;
  for (int b0 = 0; b0 < kv; b0 += HS_TRAIN_BKB) {
    const int b1 = kv - b0 < HS_TRAIN_BKB ? kv : b0 + HS_TRAIN_BKB;
    // The rows' inputs over this block side by side: rows 8 KB apart in the feature matrix
    // fall in the same few L1 sets and evict one another (half the speed on Zen 3).
    for (int r = 0; r < m; r++) memcpy(xp + (size_t)r * HS_TRAIN_BKB, x[r] + b0, (size_t)(b1 - b0) * sizeof(float));
    // Where the block's gradient goes: dwt's columns b0 ..< b1, or gb.
    float *g = dwt ? dwt + b0 : gb;
    const int ldg = dwt ? k : HS_TRAIN_BKB;
    for (int j = 0; j < n; j += HS_TRAIN_BNJ) {
      const int nj = n - j < HS_TRAIN_BNJ ? n - j : HS_TRAIN_BNJ;
      for (int p = b0; p < b1; p += HS_TRAIN_BPV * HS_TRAIN_VW) {
        int pv = (b1 - p) / HS_TRAIN_VW < HS_TRAIN_BPV ? (b1 - p) / HS_TRAIN_VW : HS_TRAIN_BPV;
        switch (nj) {
#define HS_BACKWARD_CASE(cs)                                                                             \
  case cs:                                                                                               \
    HS_TFN(backward_tile)(cs, pv, m, xp + (p - b0), HS_TRAIN_BKB, p - b0, dz + j, ldz, g + (size_t)j * ldg, \
                          ldg);                                                                          \
    break;
          HS_CASES(HS_TRAIN_BNJ, HS_BACKWARD_CASE)
#undef HS_BACKWARD_CASE
        }
      }
    }
    if (!dwt)
      for (int u = 0; u < n; u++) {
        size_t o = (size_t)u * k + b0;
        HS_TFN(adam_span)(wt + o, gb + (size_t)u * HS_TRAIN_BKB, mom + o, vel + o, (size_t)(b1 - b0), c->alpha,
                          c->keep1, c->keep2, c->eps, c->decay, c->lr);
      }
  }
  free(xp);
  free(gb);
  // The last k % HS_TRAIN_VW inputs, one at a time (the same arithmetic, one lane).
  for (int jj = 0; jj < n; jj++)
    for (int p = kv; p < k; p++) {
      float g = 0;
      for (int r = 0; r < m; r++) g = TMADDS(dz[(size_t)r * ldz + jj], x[r][p], g);
      size_t o = (size_t)jj * k + p;
      if (dwt) {
        dwt[o] = g;
        continue;
      }
      if (c->decay != 0) wt[o] -= wt[o] * c->decay * c->lr;
      mom[o] += (g - mom[o]) * c->keep1;
      vel[o] += (g * g - vel[o]) * c->keep2;
      wt[o] -= mom[o] * c->alpha / (__builtin_sqrtf(vel[o]) + c->eps);
    }
}
