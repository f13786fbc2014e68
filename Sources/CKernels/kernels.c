// Packing and the choice of kernel build: the widest the CPU and OS support (cpu.c), made once,
// unless a test forces a narrower one.
#include "kernels.h"

#include <string.h>

#include "cpu.h"

#define DECLARE(isa)                                                                                            \
  void hs_gemm_packed_##isa(int m, int n, int k, const float *a, int lda, const float *packed, float *c,      \
                            int ldc, const float *bias, const float *residual, int ldr, int relu);             \
  void hs_winograd_input_##isa(const hs_winograd_geometry *g, const float *input, int first, int count,       \
                               float *v, size_t ld);                                                           \
  void hs_winograd_output_##isa(const hs_winograd_geometry *g, const float *m, int first, int count, size_t ld, \
                                const float *bias, const float *residual, int relu, float *output);          \
  void hs_winograd4_input_##isa(const hs_winograd_geometry *g, const float *input, int first, int count,      \
                                float *v);                                                                     \
  void hs_winograd4_output_##isa(const hs_winograd_geometry *g, const float *m, int first, int count,         \
                                 const float *bias, const float *residual, int relu, float *output);         \
  void hs_winograd_kernel_##isa(const float *w, size_t plane, size_t count, float *u);                        \
  void hs_winograd_kernel_gradient_##isa(const float *r, size_t plane, size_t count, float *dw);              \
  void hs_winograd_output_gradient_##isa(const hs_winograd_geometry *g, const float *dy, int first, int count, \
                                         float *e, size_t ld);                                                \
  void hs_winograd_input_gradient_##isa(const hs_winograd_geometry *g, const float *q, int first, int count,  \
                                        size_t ld, float *dx);
DECLARE(portable)
#if defined(__x86_64__)
DECLARE(avx2)
DECLARE(avx512)
#endif

hs_kernel_level hs_kernels_best(void) {
  const hs_cpu_info *cpu = hs_cpu();
  if (cpu->avx512 && cpu->avx2 && cpu->fma) return HS_KERNELS_AVX512;
  if (cpu->avx2 && cpu->fma) return HS_KERNELS_AVX2;
  return HS_KERNELS_PORTABLE;
}

// -1 until first use; then the level in use. Relaxed atomics: every reader sees some valid level.
static int active = -1;

hs_kernel_level hs_kernels_active(void) {
  int level = __atomic_load_n(&active, __ATOMIC_RELAXED);
  if (level < 0) {
    level = (int)hs_kernels_best();
    __atomic_store_n(&active, level, __ATOMIC_RELAXED);
  }
  return (hs_kernel_level)level;
}

hs_kernel_level hs_kernels_force(hs_kernel_level level) {
  hs_kernel_level best = hs_kernels_best();
  if (level > best) level = best;
  __atomic_store_n(&active, (int)level, __ATOMIC_RELAXED);
  return level;
}

size_t hs_packed_count(int k, int n) { return (size_t)k * (size_t)((n + HS_PANEL - 1) / HS_PANEL) * HS_PANEL; }

void hs_pack(float *packed, const float *b, int k, int n, int ldb) { hs_pack_rows(packed, b, k, n, 0, k, ldb); }

void hs_pack_rows(float *packed, const float *b, int k, int n, int row0, int rows, int ldb) {
  int panels = (n + HS_PANEL - 1) / HS_PANEL;
  for (int jp = 0; jp < panels; jp++) {
    int col = jp * HS_PANEL, cols = n - col < HS_PANEL ? n - col : HS_PANEL;
    float *panel = packed + (size_t)jp * k * HS_PANEL;
    for (int p = 0; p < rows; p++) {
      float *row = panel + (size_t)(row0 + p) * HS_PANEL;
      memcpy(row, b + (size_t)p * ldb + col, (size_t)cols * sizeof(float));
      memset(row + cols, 0, (size_t)(HS_PANEL - cols) * sizeof(float));
    }
  }
}

#if defined(__x86_64__)
#define DISPATCH(call)                                         \
  switch (hs_kernels_active()) {                               \
    case HS_KERNELS_AVX512: call(avx512); break;               \
    case HS_KERNELS_AVX2: call(avx2); break;                   \
    default: call(portable); break;                            \
  }
#else
#define DISPATCH(call) call(portable)
#endif

void hs_gemm_packed(int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
                    const float *bias, const float *residual, int ldr, int relu) {
#define CALL(isa) hs_gemm_packed_##isa(m, n, k, a, lda, packed, c, ldc, bias, residual, ldr, relu)
  DISPATCH(CALL)
#undef CALL
}

void hs_winograd_input(const hs_winograd_geometry *g, const float *input, int first, int count, float *v, size_t ld) {
#define CALL(isa) hs_winograd_input_##isa(g, input, first, count, v, ld)
  DISPATCH(CALL)
#undef CALL
}

void hs_winograd_output(const hs_winograd_geometry *g, const float *m, int first, int count, size_t ld,
                        const float *bias, const float *residual, int relu, float *output) {
#define CALL(isa) hs_winograd_output_##isa(g, m, first, count, ld, bias, residual, relu, output)
  DISPATCH(CALL)
#undef CALL
}

void hs_winograd4_input(const hs_winograd_geometry *g, const float *input, int first, int count, float *v) {
#define CALL(isa) hs_winograd4_input_##isa(g, input, first, count, v)
  DISPATCH(CALL)
#undef CALL
}

void hs_winograd4_output(const hs_winograd_geometry *g, const float *m, int first, int count, const float *bias,
                         const float *residual, int relu, float *output) {
#define CALL(isa) hs_winograd4_output_##isa(g, m, first, count, bias, residual, relu, output)
  DISPATCH(CALL)
#undef CALL
}

void hs_winograd_kernel(const float *w, size_t plane, size_t count, float *u) {
#define CALL(isa) hs_winograd_kernel_##isa(w, plane, count, u)
  DISPATCH(CALL)
#undef CALL
}

void hs_winograd_kernel_gradient(const float *r, size_t plane, size_t count, float *dw) {
#define CALL(isa) hs_winograd_kernel_gradient_##isa(r, plane, count, dw)
  DISPATCH(CALL)
#undef CALL
}

void hs_winograd_output_gradient(const hs_winograd_geometry *g, const float *dy, int first, int count, float *e,
                                 size_t ld) {
#define CALL(isa) hs_winograd_output_gradient_##isa(g, dy, first, count, e, ld)
  DISPATCH(CALL)
#undef CALL
}

void hs_winograd_input_gradient(const hs_winograd_geometry *g, const float *q, int first, int count, size_t ld,
                                float *dx) {
#define CALL(isa) hs_winograd_input_gradient_##isa(g, q, first, count, ld, dx)
  DISPATCH(CALL)
#undef CALL
}
