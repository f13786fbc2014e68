// decode.h for still images, demux.h for WebPAnimDecoder (the first frame of an animation).
#include <webp/decode.h>
#include <webp/demux.h>
