// The training kernels for AVX2: 8 floats per instruction.
#include "training_kernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define HS_TRAIN_ISA avx2
#define HS_TRAIN_VW 8
#define HS_TRAIN_FMA 1
#define HS_TRAIN_FMR 2  // forward tile: 2 rows x 6 units = 12 of the 16 ymm
#define HS_TRAIN_FNJ 6
#define HS_TRAIN_BNJ 3  // backward tile: 3 units x 3 vectors of inputs
#define HS_TRAIN_BPV 3
#include "templates/training_template.h"
#pragma clang attribute pop
#endif
