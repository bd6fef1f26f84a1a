// One malloc arena for every thread of the `assay` process, set while the program loads.
//
// glibc gives a thread its arena at the thread's first malloc and keeps it; memory a thread frees
// stays in its arena for that arena's next request. The `assay` command keeps megabyte-sized
// buffers on the heap (Allocation.keepActivationBuffers), and with an arena per thread each arena
// kept its own high-water mark of them: the 1.1B shape's two-chunk perplexity on 2 threads peaked
// at 747 MiB, above the engine issue's budget of file + KV cache + 128 MiB (741 MiB); with one
// arena 700 MiB, at the same speed. Set from main it changed nothing (747 MiB, measured): threads
// started while the program loads (OpenBLAS starts its own) hold arenas by then, and a pool worker
// started later shares one of theirs rather than the main thread's. GLIBC_TUNABLES with malloc settings or
// MALLOC_ARENA_MAX in the environment leave the allocator as they set it.
#include "assay_startup.h"

#include <stdlib.h>  // (defines __GLIBC__ on glibc)
#include <string.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

__attribute__((constructor)) static void assay_startup(void) {
#if defined(__GLIBC__)
    const char *tunables = getenv("GLIBC_TUNABLES");
    if (getenv("MALLOC_ARENA_MAX") || (tunables && strstr(tunables, "glibc.malloc."))) return;
    mallopt(M_ARENA_MAX, 1);
#endif
}
