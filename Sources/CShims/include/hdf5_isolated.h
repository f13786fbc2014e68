// Reading variable-length strings in a child process, and checking a whole file there before
// it is opened.
//
// libhdf5 1.10 trusts the global heap that holds variable-length strings: a damaged heap makes
// H5HG_read copy from wild addresses (SIGSEGV) or H5T__conv_vlen fill an absurd length (a
// hang). Such a read is done in a forked child that sends the strings back through a pipe; a
// crash or a hang of the child becomes an error of the read, never of the process. Its object
// header and B-tree code likewise crashes or loops on some damaged files, so a file opened for
// reading is first walked whole by a child (the preflight). The preflight reads every value up
// to 1 MiB too, strings included; such strings of a file opened right after its preflight are
// read in the process itself (each child costs a fork: a feature file's attributes and columns took 17 of
// them, 60 ms of a two-second fit-heads).
#ifndef HS_HDF5_ISOLATED_H
#define HS_HDF5_ISOLATED_H

#include <hdf5.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  /// `bytes` holds `count` NUL-terminated strings back to back (free() it).
  HS_ISOLATED_OK = 0,
  /// libhdf5 refused the read in the child; `message` holds its innermost message.
  HS_ISOLATED_REFUSED = 1,
  /// The child died of signal `detail` while libhdf5 read (0: it ended without an answer).
  HS_ISOLATED_CRASHED = 2,
  /// The child did not finish within the time allowed and was killed.
  HS_ISOLATED_TIMED_OUT = 3,
  /// The child sent more bytes than the whole file holds, or not `count` strings.
  HS_ISOLATED_MALFORMED = 4,
  /// pipe, fork or poll failed with errno `detail`, or the file is open for writing (a child
  /// could flush the parent's unwritten metadata): the caller reads in its own process.
  HS_ISOLATED_UNAVAILABLE = 5,
  /// The file's preflight, just before it was opened, already read this whole value in its
  /// child: the caller reads it in its own process, without another child.
  HS_ISOLATED_PREFLIGHTED = 6,
} hs_isolated_outcome;

typedef struct {
  hs_isolated_outcome outcome;
  int detail;
  char *bytes;
  size_t length;
  char message[512];
} hs_isolated_strings;

/// Reads the `count` variable-length strings of dataset or attribute `object` (whole, as
/// `mem_type`) in a child process allowed `seconds`.
void hs_read_vlen_strings_isolated(hid_t object, int is_attribute, hid_t mem_type, size_t count,
                                   unsigned seconds, hs_isolated_strings *result);

/// Reads every object header, attribute, dataset layout, filter pipeline and chunk index of
/// the file at `path`, and the values of attributes and of datasets of at most 1 MiB, in a
/// child process allowed `seconds` (hdf5_preflight.c). The outcome is OK when libhdf5 read all
/// of it or refused parts of it cleanly (the caller's own reads report those), CRASHED or
/// TIMED_OUT when it could not read the file without crashing or hanging, UNAVAILABLE when no
/// child could be started (errno `detail`).
void hs_preflight_file(const char *path, unsigned seconds, hs_isolated_outcome *outcome, int *detail);

/// How many child processes this process has started for libhdf5 work (preflights and string
/// reads), for tests and diagnostics.
unsigned long hs_hdf5_children_started(void);

/// Records that `file` was opened right after its preflight finished (outcome OK): the values
/// the preflight read whole are then read without another child.
void hs_preflight_passed(hid_t file);

#ifdef __cplusplus
}
#endif

#endif
