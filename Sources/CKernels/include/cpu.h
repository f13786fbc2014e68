// CPU identification from CPUID, with the operating system's consent read from XCR0: a CPU can
// have AVX-512 while the kernel (or a hypervisor) does not save its registers, and then using
// it faults. Every vector-width decision in Headstart starts from hs_cpu().
#ifndef HEADSTART_CPU_H
#define HEADSTART_CPU_H

#include <stdbool.h>

typedef struct {
  char vendor[13];  // "GenuineIntel", "AuthenticAMD", ... ("" off x86)
  char brand[49];   // "Intel(R) Xeon(R) Platinum ...", "AMD EPYC ..." ("" when not reported)
  int family;       // display family (base + extended), e.g. 6 (Intel), 25 (AMD Zen 3/4)
  int model;        // display model (base + extended << 4), e.g. 207
  bool sse42;
  bool avx;         // AVX and the OS saves YMM state
  bool avx2;        // AVX2 and the OS saves YMM state
  bool fma;         // FMA3 and the OS saves YMM state
  bool avx512;      // AVX-512 F, CD, BW, DQ and VL, and the OS saves ZMM state
} hs_cpu_info;

/// The CPU this process runs on (computed once; cheap to call again).
const hs_cpu_info *hs_cpu(void);

#endif
