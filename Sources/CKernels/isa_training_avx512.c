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
#define HS_TRAIN_MAXR 16  // rows (inputs) per tile: 16 x 1, 8 x 2, 4 x 3 to 6 vectors of units,
#define HS_TRAIN_TILE_ROWS(nv) ((nv) == 1 ? 16 : (nv) == 2 ? 8 : 4)  // 12 to 24 of the 32 zmm for sums
#define HS_TRAIN_FNV 6
#define HS_TRAIN_BNV 6
#include "templates/training_template.h"
#pragma clang attribute pop
#endif
