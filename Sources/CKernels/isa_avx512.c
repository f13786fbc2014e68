// The kernels for AVX-512 (F, BW, DQ, VL): 16 floats per instruction, 32 vector registers.
#include "kernels.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), \
                             apply_to = function)
#define HS_ISA avx512
#define HS_VW 16
#define HS_MR 12
#define HS_NV 2
#define HS_KC 128
#define HS_MC 96
#define HS_NC 256
#include "templates/kernels_template.h"
#pragma clang attribute pop
#endif
