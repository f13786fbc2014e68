// The kernels for AVX2 + FMA3: 8 floats per instruction, 16 vector registers.
#include "kernels.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define HS_ISA avx2
#define HS_VW 8
#define HS_MR 6
#define HS_NV 2
#define HS_KC 128
#define HS_MC 96
#define HS_NC 256
#include "templates/kernels_template.h"
#pragma clang attribute pop
#endif
