// The training kernels for AVX-512: 16 floats per instruction.
#include "training_kernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), \
                             apply_to = function)
#define HS_TRAIN_ISA avx512
#define HS_TRAIN_VW 16
#define HS_TRAIN_FMA 1
#define HS_TRAIN_FMR 4  // forward tile: 4 rows x 6 units = 24 of the 32 zmm
#define HS_TRAIN_FNJ 6
#define HS_TRAIN_BNJ 4  // backward tile: 4 units x 6 vectors of inputs
#define HS_TRAIN_BPV 6
#include "templates/training_template.h"
#pragma clang attribute pop
#endif
