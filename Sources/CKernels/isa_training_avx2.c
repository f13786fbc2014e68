// The training kernels for AVX2: 8 floats per instruction.
#include "training_kernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define HS_TRAIN_ISA avx2
#define HS_TRAIN_VW 8
#define HS_TRAIN_FMA 1
#define HS_TRAIN_MAXR 8  // rows (inputs) per tile: 8 x 1, 4 x 2 or 3, 2 x 4 to 6 vectors of units,
#define HS_TRAIN_TILE_ROWS(nv) ((nv) == 1 ? 8 : (nv) <= 3 ? 4 : 2)  // 8 to 12 of the 16 ymm for sums
#define HS_TRAIN_FNV 6
#define HS_TRAIN_BNV 6
#include "templates/training_template.h"
#pragma clang attribute pop
#endif
