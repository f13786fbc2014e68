// The kernels in plain C for any CPU (baseline x86-64: SSE2, 4 floats per instruction, and
// multiply-then-add instead of FMA).
#include "kernels.h"

#define HS_ISA portable
#define HS_VW 4
#define HS_MR 4
#define HS_NV 2
#define HS_KC 128
#define HS_MC 64
#define HS_NC 256
#include "templates/kernels_template.h"
