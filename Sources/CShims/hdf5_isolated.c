// See include/hdf5_isolated.h. The child process itself is hdf5_child.c's.
#include "hdf5_isolated.h"
#include "hdf5_child.h"
#include "hdf5_shims.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// What the child sends first: the strings follow 'S'; HDF5's message follows 'R'.
enum { tag_strings = 'S', tag_refused = 'R' };

typedef struct {
  hid_t object;
  int is_attribute;
  hid_t mem_type;
  size_t count;
} strings_read;

static void read_strings_in_child(int fd, void *context) {
  const strings_read *read = context;
  char **pointers = calloc(read->count > 0 ? read->count : 1, sizeof(char *));
  if (pointers == NULL) _exit(3);
  herr_t status = read->is_attribute
                      ? H5Aread(read->object, read->mem_type, pointers)
                      : H5Dread(read->object, read->mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers);
  if (status < 0) {
    char message[512];
    hs_take_error_message(message, sizeof message);
    char tag = tag_refused;
    if (hs_write_all(fd, &tag, 1) != 0 || hs_write_all(fd, message, strlen(message) + 1) != 0) _exit(1);
    return;
  }
  char tag = tag_strings;
  if (hs_write_all(fd, &tag, 1) != 0) _exit(1);
  for (size_t i = 0; i < read->count; i++) {
    const char *s = pointers[i] != NULL ? pointers[i] : "";
    if (hs_write_all(fd, s, strlen(s) + 1) != 0) _exit(1);
  }
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
  if (hs_preflight_read_whole(object, is_attribute)) {
    result->outcome = HS_ISOLATED_PREFLIGHTED;
    return;
  }
  size_t limit = byte_limit(object, count);
  strings_read read = {object, is_attribute, mem_type, count};
  hs_child_answer answer;
  hs_run_in_child(read_strings_in_child, &read, seconds, (256u << 20) + 4 * limit, limit, &answer);
  result->outcome = answer.outcome;
  result->detail = answer.detail;
  if (answer.outcome != HS_ISOLATED_OK) return;
  char *bytes = answer.bytes;
  size_t length = answer.length;
  if (length == 0) {
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
      result->bytes = bytes;
      result->length = length - 1;
      return;
    }
  }
  free(bytes);
}
