// HDF5's type and property-list identifiers are macros that call H5open(); Swift cannot
// import them, so each is wrapped once in a static inline function.
#include <hdf5.h>
static inline hid_t hs_native_float(void) { return H5T_NATIVE_FLOAT; }
