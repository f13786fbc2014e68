// The training kernels in plain C for any CPU (baseline x86-64: SSE2, 4 floats per instruction).
#include "training_kernels.h"

#include <stdlib.h>
#include <string.h>

#define HS_TRAIN_ISA portable
#define HS_TRAIN_VW 4
#define HS_TRAIN_FMA 0
#define HS_TRAIN_FMR 2  // as AVX2: 16 xmm
#define HS_TRAIN_FNJ 6
#define HS_TRAIN_BNJ 3
#define HS_TRAIN_BPV 3
#include "templates/training_template.h"
