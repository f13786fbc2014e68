#include "cpu.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void) {
  unsigned int eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((unsigned long long)edx << 32) | eax;
}

static void detect(hs_cpu_info *info) {
  unsigned int a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return;
  unsigned int maxLeaf = a;
  memcpy(info->vendor + 0, &b, 4);
  memcpy(info->vendor + 4, &d, 4);
  memcpy(info->vendor + 8, &c, 4);
  info->vendor[12] = '\0';

  __get_cpuid(1, &a, &b, &c, &d);
  int baseFamily = (a >> 8) & 0xf, baseModel = (a >> 4) & 0xf;
  int extFamily = (a >> 20) & 0xff, extModel = (a >> 16) & 0xf;
  info->family = baseFamily == 0xf ? baseFamily + extFamily : baseFamily;
  info->model = (baseFamily == 0x6 || baseFamily == 0xf) ? baseModel + (extModel << 4) : baseModel;
  info->sse42 = (c >> 20) & 1;
  bool osxsave = (c >> 27) & 1;
  bool cpuAVX = (c >> 28) & 1, cpuFMA = (c >> 12) & 1;
  unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
  bool osYMM = (xcr0 & 0x6) == 0x6;            // SSE and AVX state
  bool osZMM = osYMM && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM state
  info->avx = cpuAVX && osYMM;
  info->fma = cpuFMA && info->avx;
  if (maxLeaf >= 7) {
    __get_cpuid_count(7, 0, &a, &b, &c, &d);
    info->avx2 = ((b >> 5) & 1) && info->avx;
    bool f = (b >> 16) & 1, dq = (b >> 17) & 1, cd = (b >> 28) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    info->avx512 = f && dq && cd && bw && vl && osZMM;
  }

  unsigned int maxExt = __get_cpuid_max(0x80000000, 0);
  if (maxExt >= 0x80000004) {
    unsigned int regs[12];
    for (unsigned int i = 0; i < 3; i++)
      __get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    memcpy(info->brand, regs, 48);
    info->brand[48] = '\0';
    // Some CPUs pad the brand string with leading spaces.
    char *start = info->brand;
    while (*start == ' ') start++;
    memmove(info->brand, start, strlen(start) + 1);
  }
}
#else
static void detect(hs_cpu_info *info) { (void)info; }
#endif

static hs_cpu_info detected;
static pthread_once_t detectedOnce = PTHREAD_ONCE_INIT;
static void detectOnce(void) { detect(&detected); }

const hs_cpu_info *hs_cpu(void) {
  pthread_once(&detectedOnce, detectOnce);
  return &detected;
}
