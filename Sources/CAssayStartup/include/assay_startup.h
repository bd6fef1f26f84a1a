// What the `assay` executable sets before its main function and before any thread of its own:
// see startup.c. Linked into the executable only, never into a library's host.
#pragma once

/// 1 when glibc's allocator was told to keep one arena for all threads at startup, 0 when the
/// environment tunes the allocator itself or the C library is not glibc.
int assay_single_arena(void);
