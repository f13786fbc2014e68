// See include/hdf5_isolated.h.
#include "hdf5_isolated.h"
#include "hdf5_shims.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// What the child sends first: the strings follow 'S'; HDF5's message follows 'R'.
enum { tag_strings = 'S', tag_refused = 'R' };

static int write_all(int fd, const void *data, size_t size) {
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

// Bounds the child's memory to what it has now plus `budget` bytes, so an absurd string length
// fails its allocation at once instead of filling memory for minutes.
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

// The child: only C and libhdf5 run here (no Swift runtime, whose locks another thread of the
// parent may have held at the fork), and it leaves with _exit so nothing of the parent's is
// flushed or closed twice.
static void read_in_child(int fd, hid_t object, int is_attribute, hid_t mem_type, size_t count,
                          unsigned seconds, size_t byte_limit) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent's crash handlers (Swift's backtracer) would report the child's crash as the
  // command's own; the child dies quietly and the parent reports the damaged file.
  const int crashes[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
  for (size_t i = 0; i < sizeof crashes / sizeof crashes[0]; i++) signal(crashes[i], SIG_DFL);
  limit_memory((256u << 20) + 4 * byte_limit);
  sigset_t alarm_only;
  sigemptyset(&alarm_only);
  sigaddset(&alarm_only, SIGALRM);
  sigprocmask(SIG_UNBLOCK, &alarm_only, NULL);
  signal(SIGALRM, SIG_DFL);
  alarm(seconds + 1);
  char **pointers = calloc(count > 0 ? count : 1, sizeof(char *));
  if (pointers == NULL) _exit(3);
  herr_t status = is_attribute ? H5Aread(object, mem_type, pointers)
                               : H5Dread(object, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers);
  if (status < 0) {
    char message[512];
    hs_take_error_message(message, sizeof message);
    char tag = tag_refused;
    if (write_all(fd, &tag, 1) != 0 || write_all(fd, message, strlen(message) + 1) != 0) _exit(1);
    _exit(0);
  }
  char tag = tag_strings;
  if (write_all(fd, &tag, 1) != 0) _exit(1);
  for (size_t i = 0; i < count; i++) {
    const char *s = pointers[i] != NULL ? pointers[i] : "";
    if (write_all(fd, s, strlen(s) + 1) != 0) _exit(1);
  }
  _exit(0);
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

// The most the strings can take: every string is stored in the file, plus one NUL each.
static size_t byte_limit(hid_t object, size_t count) {
  hid_t file = H5Iget_file_id(object);
  hsize_t size = 0;
  if (file >= 0) {
    if (H5Fget_filesize(file, &size) < 0) size = 0;
    H5Fclose(file);
  }
  return (size_t)size + count + 4096;
}

static int opened_for_writing(hid_t object) {
  hid_t file = H5Iget_file_id(object);
  if (file < 0) return 1;
  unsigned intent = 0;
  herr_t status = H5Fget_intent(file, &intent);
  H5Fclose(file);
  return status < 0 || (intent & H5F_ACC_RDWR) != 0;
}

void hs_read_vlen_strings_isolated(hid_t object, int is_attribute, hid_t mem_type, size_t count,
                                   unsigned seconds, hs_isolated_strings *result) {
  memset(result, 0, sizeof *result);
  if (opened_for_writing(object)) {
    result->outcome = HS_ISOLATED_UNAVAILABLE;
    return;
  }
  size_t limit = byte_limit(object, count);
  int fds[2];
  if (pipe(fds) != 0) {
    result->outcome = HS_ISOLATED_UNAVAILABLE;
    result->detail = errno;
    return;
  }
  pid_t child = fork();
  if (child < 0) {
    result->outcome = HS_ISOLATED_UNAVAILABLE;
    result->detail = errno;
    close(fds[0]);
    close(fds[1]);
    return;
  }
  if (child == 0) {
    close(fds[0]);
    read_in_child(fds[1], object, is_attribute, mem_type, count, seconds, limit);
  }
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
      if (capacity >= limit) {
        overflowed = 1;
        break;
      }
      capacity = capacity * 2 < limit ? capacity * 2 : limit;
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
    result->outcome = HS_ISOLATED_TIMED_OUT;
  } else if (failed) {
    result->outcome = HS_ISOLATED_UNAVAILABLE;
    result->detail = failed;
  } else if (overflowed) {
    result->outcome = HS_ISOLATED_MALFORMED;
  } else if (WIFSIGNALED(status)) {
    result->outcome = WTERMSIG(status) == SIGALRM ? HS_ISOLATED_TIMED_OUT : HS_ISOLATED_CRASHED;
    result->detail = WTERMSIG(status);
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || length == 0) {
    result->outcome = HS_ISOLATED_CRASHED;  // detail 0: it ended without sending an answer
  } else if (bytes[0] == tag_refused) {
    result->outcome = HS_ISOLATED_REFUSED;
    size_t n = length - 1 < sizeof result->message - 1 ? length - 1 : sizeof result->message - 1;
    memcpy(result->message, bytes + 1, n);
    result->message[n] = '\0';
  } else {
    size_t strings = 0;
    for (size_t i = 1; i < length; i++) strings += bytes[i] == '\0';
    if (bytes[0] != tag_strings || strings != count || bytes[length - 1] != '\0') {
      result->outcome = HS_ISOLATED_MALFORMED;
    } else {
      memmove(bytes, bytes + 1, length - 1);
      result->outcome = HS_ISOLATED_OK;
      result->bytes = bytes;
      result->length = length - 1;
      return;
    }
  }
  free(bytes);
}
