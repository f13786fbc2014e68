// The preflight of include/hdf5_isolated.h: a child walks the whole file through the metadata
// paths where libhdf5 1.10.8 crashes or loops on damaged files (object headers and their
// messages, attribute storage, dataset layouts and filter pipelines, chunk B-trees, the global
// heap behind variable-length values). Failures libhdf5 reports are not the preflight's
// business: the reads of the command meet them again and report them in their own words.
#include "hdf5_child.h"
#include "hdf5_isolated.h"
#include "hdf5_shims.h"

#include <pthread.h>
#include <stdlib.h>

// Values up to this size are read (decompressed, checksums verified): a damaged size or
// dimension above it is the normal reads' to refuse, and bigger data costs more time than
// the metadata it would check.
static const size_t value_limit = 1u << 20;
// Chunks whose index entry is looked up, spread over the dataset: each lookup walks the index
// from the start in libhdf5 1.10, so all chunks of a large dataset would cost quadratic time.
static const hsize_t chunk_lookups = 256;

// Whether the preflight reads the whole value of this memory type and dataspace.
static int reads_whole(hid_t memory, hid_t space) {
  hssize_t points = H5Sget_simple_extent_npoints(space);
  size_t size = H5Tget_size(memory);
  return points > 0 && size > 0 && (size_t)points <= value_limit / size;
}

// The files opened after a finished preflight, by libhdf5's number for the open file (unique
// per open, so a file opened again, or changed and opened again, is not among them).
enum { checked_capacity = 64 };
static unsigned long checked[checked_capacity];
static unsigned checked_count;
static pthread_mutex_t checked_lock = PTHREAD_MUTEX_INITIALIZER;

static int file_number(hid_t object, unsigned long *number) {
  H5O_info_t info;
  if (H5Oget_info2(object, &info, H5O_INFO_BASIC) < 0) return -1;
  *number = info.fileno;
  return 0;
}

void hs_preflight_passed(hid_t file) {
  unsigned long number;
  if (file_number(file, &number) != 0) return;
  pthread_mutex_lock(&checked_lock);
  checked[checked_count % checked_capacity] = number;  // the oldest makes room
  checked_count++;
  pthread_mutex_unlock(&checked_lock);
}

static int was_checked(hid_t object) {
  hid_t file = H5Iget_file_id(object);
  if (file < 0) return 0;
  unsigned long number;
  int known = file_number(file, &number) == 0;
  H5Fclose(file);
  if (!known) return 0;
  pthread_mutex_lock(&checked_lock);
  int found = 0;
  unsigned count = checked_count < checked_capacity ? checked_count : checked_capacity;
  for (unsigned i = 0; i < count && !found; i++) found = checked[i] == number;
  pthread_mutex_unlock(&checked_lock);
  return found;
}

int hs_preflight_read_whole(hid_t object, int is_attribute) {
  if (!was_checked(object)) return 0;
  hid_t type = is_attribute ? H5Aget_type(object) : H5Dget_type(object);
  hid_t space = is_attribute ? H5Aget_space(object) : H5Dget_space(object);
  hid_t memory = type >= 0 ? H5Tget_native_type(type, H5T_DIR_ASCEND) : -1;
  int whole = memory >= 0 && space >= 0 && reads_whole(memory, space);
  if (memory >= 0) H5Tclose(memory);
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  return whole;
}

// Reads the whole value of an attribute or dataset as its native type, then frees what
// libhdf5 allocated for variable-length parts.
static void read_value(hid_t object, int is_attribute, hid_t type, hid_t space) {
  hid_t memory = H5Tget_native_type(type, H5T_DIR_ASCEND);
  if (memory < 0) return;
  if (reads_whole(memory, space)) {
    size_t points = (size_t)H5Sget_simple_extent_npoints(space);
    size_t size = H5Tget_size(memory);
    void *buffer = calloc(points, size);
    if (buffer != NULL) {
      herr_t status = is_attribute
                          ? H5Aread(object, memory, buffer)
                          : H5Dread(object, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
      if (status >= 0 && (H5Tdetect_class(memory, H5T_VLEN) > 0 || H5Tis_variable_str(memory) > 0)) {
        H5Dvlen_reclaim(memory, space, H5P_DEFAULT, buffer);
      }
      free(buffer);
    }
  }
  H5Tclose(memory);
}

static herr_t check_attribute(hid_t owner, const char *name, const H5A_info_t *info, void *context) {
  (void)info;
  (void)context;
  hid_t attribute = H5Aopen(owner, name, H5P_DEFAULT);
  if (attribute < 0) return 0;
  hid_t type = H5Aget_type(attribute);
  hid_t space = H5Aget_space(attribute);
  if (type >= 0 && space >= 0) read_value(attribute, 1, type, space);
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  H5Aclose(attribute);
  return 0;
}

static void check_chunks(hid_t dataset, hid_t space) {
  hsize_t count = 0;
  if (H5Dget_num_chunks(dataset, space, &count) < 0 || count == 0) return;
  hsize_t step = count > chunk_lookups ? count / chunk_lookups : 1;
  hsize_t offset[H5S_MAX_RANK];
  for (hsize_t i = 0; i < count; i += step) {
    unsigned mask = 0;
    haddr_t address = 0;
    hsize_t size = 0;
    H5Dget_chunk_info(dataset, space, i, offset, &mask, &address, &size);
  }
  unsigned mask = 0;
  haddr_t address = 0;
  hsize_t size = 0;
  H5Dget_chunk_info(dataset, space, count - 1, offset, &mask, &address, &size);
}

static void check_dataset(hid_t dataset) {
  hid_t type = H5Dget_type(dataset);
  hid_t space = H5Dget_space(dataset);
  hid_t creation = H5Dget_create_plist(dataset);
  if (creation >= 0) {
    int filters = H5Pget_nfilters(creation);
    for (int i = 0; i < filters; i++) {
      unsigned flags = 0, config = 0;
      size_t values = 8;
      unsigned parameters[8];
      char name[64];
      H5Pget_filter2(creation, (unsigned)i, &flags, &values, parameters, sizeof name, name, &config);
    }
    if (H5Pget_layout(creation) == H5D_CHUNKED && space >= 0) check_chunks(dataset, space);
    H5Pclose(creation);
  }
  H5Dget_storage_size(dataset);
  if (type >= 0 && space >= 0) read_value(dataset, 0, type, space);
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
}

static herr_t check_object(hid_t root, const char *name, const H5O_info_t *info, void *context) {
  (void)context;
  hid_t object = H5Oopen(root, name, H5P_DEFAULT);
  if (object < 0) return 0;
  H5O_info_t full;
  H5Oget_info2(object, &full, H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS | H5O_INFO_HDR | H5O_INFO_META_SIZE);
  H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, check_attribute, NULL);
  if (info->type == H5O_TYPE_DATASET) check_dataset(object);
  H5Oclose(object);
  return 0;
}

static void check_file(int fd, void *context) {
  (void)fd;
  const char *path = context;
  hs_silence_errors();
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) return;
  H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_NATIVE, check_object, NULL,
            H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS | H5O_INFO_HDR);
  H5Fclose(file);
}

void hs_preflight_file(const char *path, unsigned seconds, hs_isolated_outcome *outcome, int *detail) {
  hs_child_answer answer;
  // The child sends nothing; its exit tells everything.
  hs_run_in_child(check_file, (void *)path, seconds, 256u << 20, 1, &answer);
  free(answer.bytes);
  *outcome = answer.outcome;
  *detail = answer.detail;
}
