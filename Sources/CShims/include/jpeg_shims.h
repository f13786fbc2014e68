// libjpeg reports errors with longjmp; the setjmp must live in C.
#include <stdio.h>
#include <stddef.h>
#include <jpeglib.h>
