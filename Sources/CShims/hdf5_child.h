// Running a piece of libhdf5 work in a forked child (private to CShims): the child gets the
// default crash handlers, a memory bound and a deadline, and answers through a pipe; the parent
// collects the answer and tells a finished child from one that crashed or ran out of time.
#ifndef HS_HDF5_CHILD_H
#define HS_HDF5_CHILD_H

#include "hdf5_isolated.h"

#include <stddef.h>

typedef struct {
  /// OK: the child exited 0 and `bytes` holds the `length` bytes it sent (free() it);
  /// CRASHED: it died of signal `detail` (0: it exited with a failure status);
  /// TIMED_OUT, MALFORMED (it sent more than `byte_limit`), UNAVAILABLE (errno `detail`).
  hs_isolated_outcome outcome;
  int detail;
  char *bytes;
  size_t length;
} hs_child_answer;

/// The child's work: write the answer to `fd` and return (the child then exits 0). Only C and
/// libhdf5 may run here.
typedef void (*hs_child_work)(int fd, void *context);

/// Runs `work` in a child allowed `seconds` and `memory_budget` bytes beyond what it holds at
/// the fork; an answer longer than `byte_limit` is not read further.
void hs_run_in_child(hs_child_work work, void *context, unsigned seconds, size_t memory_budget,
                     size_t byte_limit, hs_child_answer *answer);

/// Writes all of `data` to `fd` (0), or fails (-1).
int hs_write_all(int fd, const void *data, size_t size);

/// 1 when the file holding dataset or attribute `object` was opened right after a finished
/// preflight (hdf5_preflight.c, hs_preflight_passed) and the preflight read `object`'s whole
/// value: libhdf5 has then already read that value without crashing or hanging.
int hs_preflight_read_whole(hid_t object, int is_attribute);

#endif
