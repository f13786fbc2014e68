// The little C that Swift cannot host. Each concern has its own header.
#include "hdf5_shims.h"
#include "hdf5_isolated.h"
#include "jpeg_shims.h"
#include "jpeg_encode.h"
#include "zlib_shims.h"
#include "tiff_shims.h"
