// HDF5's type and property-list identifiers are macros that call H5open(); Swift cannot
// import them, so each is wrapped once in a static inline function. The error-stack helpers
// live here too because they need a C callback.
#ifndef HEADSTART_HDF5_SHIMS_H
#define HEADSTART_HDF5_SHIMS_H
#include <hdf5.h>
#include <string.h>

// Predefined types (memory side).
static inline hid_t hs_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t hs_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t hs_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t hs_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t hs_native_uint8(void) { return H5T_NATIVE_UINT8; }
// Predefined types (file side): little-endian, as numpy/h5py write them on x86 and ARM.
static inline hid_t hs_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t hs_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t hs_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t hs_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t hs_c_s1(void) { return H5T_C_S1; }
static inline size_t hs_variable(void) { return H5T_VARIABLE; }

// Property lists and selections.
static inline hid_t hs_p_default(void) { return H5P_DEFAULT; }
static inline hid_t hs_p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t hs_p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t hs_p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t hs_p_group_create(void) { return H5P_GROUP_CREATE; }
static inline hid_t hs_p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t hs_s_all(void) { return H5S_ALL; }
static inline hsize_t hs_s_unlimited(void) { return H5S_UNLIMITED; }

// File access flags.
static inline unsigned hs_f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned hs_f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned hs_f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned hs_f_acc_excl(void) { return H5F_ACC_EXCL; }

// Error stack: HDF5 prints every failure to stderr by default; Headstart turns failures into
// Swift errors instead, so printing is switched off once and the innermost message is read.
static inline void hs_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

typedef struct {
  char *buffer;
  size_t capacity;
  hid_t outer_major;
  int checksum_failed;
} hs_error_sink;

// Walked downward (from the API call inward), the last frame visited is the innermost one,
// which names the actual cause ("unable to open file", "file signature not found").
//
// A chunk whose Fletcher-32 checksum does not match shows as a frame of the filter pipeline
// (major H5E_PLINE, "filter returned failure during read") directly around the filter's own
// frame, a read error of stored data (major H5E_STORAGE, minor H5E_READERROR, "data error
// detected by Fletcher32 checksum"): libhdf5 1.10 to 1.14 have no "checksum" minor code for raw
// data. HDF5's other built-in filters report their failures under H5E_PLINE itself, so the pair
// singles out the checksum; callers confirm that the dataset has the filter.
static inline herr_t hs_error_walker(unsigned n, const H5E_error2_t *err, void *client) {
  (void)n;
  hs_error_sink *sink = (hs_error_sink *)client;
  if (err->desc != NULL && sink->capacity > 0) {
    strncpy(sink->buffer, err->desc, sink->capacity - 1);
    sink->buffer[sink->capacity - 1] = '\0';
  }
  if (sink->outer_major == H5E_PLINE && err->maj_num == H5E_STORAGE && err->min_num == H5E_READERROR) {
    sink->checksum_failed = 1;
  }
  sink->outer_major = err->maj_num;
  return 0;
}

/// Copies the innermost message of the current thread's error stack into `buffer` and clears
/// the stack. Writes an empty string when the stack is empty. Returns 1 when the stack records a
/// failed Fletcher-32 checksum (see hs_error_walker), else 0.
static inline int hs_take_error_message(char *buffer, size_t capacity) {
  if (capacity == 0) return 0;
  buffer[0] = '\0';
  hs_error_sink sink = {buffer, capacity, -1, 0};
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, hs_error_walker, &sink);
  H5Eclear2(H5E_DEFAULT);
  return sink.checksum_failed;
}

#endif
