#include "CShims.h"

// HDF5 1.10 closes every file still open when the process exits, and crashes doing so
// (H5F__close_cb) when an earlier close of that file failed, e.g. on a full disk. Headstart
// closes each file itself and reports the failure, so the library's own exit-time clean-up is
// switched off before the library starts.
__attribute__((constructor)) static void hs_hdf5_skip_exit_cleanup(void) { H5dont_atexit(); }
