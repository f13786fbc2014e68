// The training kernels in plain C for any CPU (baseline x86-64: SSE2, 4 floats per instruction).
#include "training_kernels.h"

#include <stdlib.h>
#include <string.h>

#define HS_TRAIN_ISA portable
#define HS_TRAIN_VW 4
#define HS_TRAIN_FMA 0
#define HS_TRAIN_MAXR 8  // as AVX2: 16 xmm
#define HS_TRAIN_TILE_ROWS(nv) ((nv) == 1 ? 8 : (nv) <= 3 ? 4 : 2)
#define HS_TRAIN_FNV 6
#define HS_TRAIN_BNV 6
#include "templates/training_template.h"
