#include "step_signal.h"

#include <sched.h>

#if defined(__x86_64__) || defined(__i386__)
#define HS_RELAX() __builtin_ia32_pause()
#else
#define HS_RELAX() ((void)0)
#endif

void hs_signal_raise(long *counter, long value) { __atomic_store_n(counter, value, __ATOMIC_RELEASE); }

void hs_signal_wait(const long *counter, long value) {
  // ~4,000 pauses is some tens of microseconds: about one training block's imbalance.
  for (int spin = 0; __atomic_load_n(counter, __ATOMIC_ACQUIRE) < value; spin++) {
    if (spin < 4096)
      HS_RELAX();
    else
      sched_yield();
  }
}
