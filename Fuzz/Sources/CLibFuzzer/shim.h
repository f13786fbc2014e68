// libFuzzer's entry for programs that have their own main() (FuzzerInterface.h, LLVM 11 and
// later): runs the fuzzer with the command line and calls `test` on every input. SwiftPM gives
// each executable target a main of its own (the target's main.swift, aliased to `main` at link
// time), which starts libFuzzer through this. The runtime, linked whole by -sanitize=fuzzer,
// brings a main() too, which calls LLVMFuzzerTestOneInput: each target defines that function
// and passes it here, so whichever main the linker keeps, the same function is fuzzed.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test)(const uint8_t *data, size_t size));
