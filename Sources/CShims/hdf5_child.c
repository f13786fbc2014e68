// See hdf5_child.h.
#include "hdf5_child.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int hs_write_all(int fd, const void *data, size_t size) {
  const char *p = data;
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    size -= (size_t)n;
  }
  return 0;
}

// Bounds the child's memory to what it has now plus `budget` bytes, so an absurd size read from
// a damaged file fails its allocation at once instead of filling memory for minutes.
static void limit_memory(size_t budget) {
  FILE *statm = fopen("/proc/self/statm", "r");
  if (statm == NULL) return;
  unsigned long long pages = 0;
  int found = fscanf(statm, "%llu", &pages);
  fclose(statm);
  if (found != 1) return;
  rlim_t limit = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (rlim_t)budget;
  struct rlimit bound = {limit, limit};
  setrlimit(RLIMIT_AS, &bound);
}

// Present only under the sanitizers (the fuzz targets). A fault AddressSanitizer catches in the
// child would otherwise run libFuzzer's death callback there, which reports the input as the
// parent's crash; the child is to die quietly, as below.
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

// The child: only C and libhdf5 run here (no Swift runtime, whose locks another thread of the
// parent may have held at the fork), and it leaves with _exit so nothing of the parent's is
// flushed or closed twice.
static void run_child(int fd, hs_child_work work, void *context, unsigned seconds, size_t budget) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent's crash handlers (Swift's backtracer) would report the child's crash as the
  // command's own; the child dies quietly and the parent reports the damaged file.
  const int crashes[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
  for (size_t i = 0; i < sizeof crashes / sizeof crashes[0]; i++) signal(crashes[i], SIG_DFL);
  if (__sanitizer_set_death_callback != NULL) __sanitizer_set_death_callback(NULL);
  limit_memory(budget);
  sigset_t alarm_only;
  sigemptyset(&alarm_only);
  sigaddset(&alarm_only, SIGALRM);
  sigprocmask(SIG_UNBLOCK, &alarm_only, NULL);
  signal(SIGALRM, SIG_DFL);
  alarm(seconds + 1);
  work(fd, context);
  _exit(0);
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static unsigned long children_started;

unsigned long hs_hdf5_children_started(void) { return __atomic_load_n(&children_started, __ATOMIC_RELAXED); }

void hs_run_in_child(hs_child_work work, void *context, unsigned seconds, size_t memory_budget,
                     size_t byte_limit, hs_child_answer *answer) {
  memset(answer, 0, sizeof *answer);
  int fds[2];
  if (pipe(fds) != 0) {
    answer->outcome = HS_ISOLATED_UNAVAILABLE;
    answer->detail = errno;
    return;
  }
  pid_t child = fork();
  if (child < 0) {
    answer->outcome = HS_ISOLATED_UNAVAILABLE;
    answer->detail = errno;
    close(fds[0]);
    close(fds[1]);
    return;
  }
  if (child == 0) {
    close(fds[0]);
    run_child(fds[1], work, context, seconds, memory_budget);
  }
  __atomic_add_fetch(&children_started, 1, __ATOMIC_RELAXED);
  close(fds[1]);

  size_t capacity = 4096, length = 0;
  char *bytes = malloc(capacity);
  int timed_out = 0, overflowed = 0, failed = 0;
  double deadline = now_seconds() + seconds;
  while (bytes != NULL) {
    double left = deadline - now_seconds();
    if (left <= 0) {
      timed_out = 1;
      break;
    }
    struct pollfd pfd = {fds[0], POLLIN, 0};
    int ready = poll(&pfd, 1, (int)(left * 1000) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      failed = errno;
      break;
    }
    if (ready == 0) continue;
    if (length == capacity) {
      if (capacity >= byte_limit) {
        overflowed = 1;
        break;
      }
      capacity = capacity * 2 < byte_limit ? capacity * 2 : byte_limit;
      char *grown = realloc(bytes, capacity);
      if (grown == NULL) {
        failed = ENOMEM;
        break;
      }
      bytes = grown;
    }
    ssize_t n = read(fds[0], bytes + length, capacity - length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failed = errno;
      break;
    }
    if (n == 0) break;
    length += (size_t)n;
  }
  if (bytes == NULL) failed = ENOMEM;
  close(fds[0]);
  if (timed_out || overflowed || failed) kill(child, SIGKILL);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }

  if (timed_out) {
    answer->outcome = HS_ISOLATED_TIMED_OUT;
  } else if (failed) {
    answer->outcome = HS_ISOLATED_UNAVAILABLE;
    answer->detail = failed;
  } else if (overflowed) {
    answer->outcome = HS_ISOLATED_MALFORMED;
  } else if (WIFSIGNALED(status)) {
    answer->outcome = WTERMSIG(status) == SIGALRM ? HS_ISOLATED_TIMED_OUT : HS_ISOLATED_CRASHED;
    answer->detail = WTERMSIG(status);
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    answer->outcome = HS_ISOLATED_CRASHED;  // detail 0: it ended without finishing its work
  } else {
    answer->outcome = HS_ISOLATED_OK;
    answer->bytes = bytes;
    answer->length = length;
    return;
  }
  free(bytes);
}
