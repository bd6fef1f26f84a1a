// The C allocator's settings for a process that runs models (Allocation.keepActivationBuffers).
#include "assay_kernels.h"

#include <limits.h>
#include <stdlib.h>  // (defines __GLIBC__ on glibc)

#if defined(__GLIBC__)
#include <malloc.h>
#endif

size_t assay_keep_heap_buffers(size_t mmap_threshold, size_t trim_threshold) {
#if defined(__GLIBC__)
    if (mmap_threshold > INT_MAX) mmap_threshold = INT_MAX;
    if (trim_threshold > INT_MAX) trim_threshold = INT_MAX;
    // glibc before 2.35 refuses an mmap threshold above 32 MiB (HEAP_MAX_SIZE / 2); the trim
    // threshold alone would then freeze the mmap threshold at its 128 KiB start, so it is set only
    // after an accepted mmap threshold.
    size_t accepted = 0;
    for (size_t threshold = mmap_threshold; threshold >= ((size_t)1 << 20) && !accepted; threshold /= 2)
        if (mallopt(M_MMAP_THRESHOLD, (int)threshold)) accepted = threshold;
    if (accepted) mallopt(M_TRIM_THRESHOLD, (int)trim_threshold);
    return accepted;
#else
    (void)mmap_threshold;
    (void)trim_threshold;
    return 0;
#endif
}
