// Headstart's own C: CPU identification and the vector kernels chosen from it at run time.
#include "cpu.h"
#include "kernels.h"
#include "step_signal.h"
#include "training_kernels.h"
