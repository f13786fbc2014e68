// The choice among the training kernels' builds: the level hs_kernels_active() reports.
#include "training_kernels.h"

#include "kernels.h"

#define DECLARE(isa)                                                                                         \
  void hs_adam_update_##isa(float *w, const float *g, float *m, float *v, size_t n, float alpha, float keep1, \
                            float keep2, float eps, float decay, float lr);                                 \
  void hs_dense_forward_rows_##isa(int m, int n, int k, const float *const *x, const float *w,                  \
                                   const float *bias, float *z, int ldz);                                        \
  void hs_dense_backward_rows_##isa(int m, int n, int k, const float *const *x, const float *dz, int ldz,         \
                                    float *dw, float *w, float *mom, float *vel, const hs_adam_coefficients *c);
DECLARE(portable)
#if defined(__x86_64__)
DECLARE(avx2)
DECLARE(avx512)
#endif

#if defined(__x86_64__)
#define DISPATCH(call)                           \
  switch (hs_kernels_active()) {                 \
    case HS_KERNELS_AVX512: call(avx512); break; \
    case HS_KERNELS_AVX2: call(avx2); break;     \
    default: call(portable); break;              \
  }
#else
#define DISPATCH(call) call(portable)
#endif

void hs_adam_update(float *w, const float *g, float *m, float *v, size_t n, float alpha, float keep1, float keep2,
                    float eps, float decay, float lr) {
#define CALL(isa) hs_adam_update_##isa(w, g, m, v, n, alpha, keep1, keep2, eps, decay, lr)
  DISPATCH(CALL)
#undef CALL
}

void hs_dense_forward_rows(int m, int n, int k, const float *const *x, const float *w, const float *bias, float *z,
                           int ldz) {
#define CALL(isa) hs_dense_forward_rows_##isa(m, n, k, x, w, bias, z, ldz)
  DISPATCH(CALL)
#undef CALL
}

void hs_dense_backward_rows(int m, int n, int k, const float *const *x, const float *dz, int ldz, float *dw,
                            float *w, float *mom, float *vel, const hs_adam_coefficients *c) {
#define CALL(isa) hs_dense_backward_rows_##isa(m, n, k, x, dz, ldz, dw, w, mom, vel, c)
  DISPATCH(CALL)
#undef CALL
}
