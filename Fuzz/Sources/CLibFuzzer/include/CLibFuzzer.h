#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (linked by -sanitize=fuzzer): parses libFuzzer's flags from argv and runs
/// `callback` on each input. SwiftPM names an executable's entry point itself, so the fuzz
/// executables have a Swift `main` that calls this instead of using libFuzzer's `main`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
