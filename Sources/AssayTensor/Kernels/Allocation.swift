import CAssayKernels
import Foundation

/// How the C allocator treats the engine's activation buffers.
public enum Allocation {
    /// Keeps buffers of up to 64 MiB (32 MiB before glibc 2.35) on the heap and up to 256 MiB of
    /// freed heap memory mapped, unless the environment tunes glibc's allocator itself (`GLIBC_TUNABLES` with malloc
    /// settings, `MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`). The executable also keeps one
    /// arena for all threads (CAssayStartup), which must be set before threads start. A forward pass allocates
    /// and frees megabyte-sized arrays for every layer; by default glibc maps each afresh and
    /// returns it on free, so every page of every one faults in again and is zeroed by the kernel
    /// (a sixth of SmolLM2's 512-token prefill on 2 threads; docs/engine.md). For a process that
    /// runs models (the `assay` command), not for a library's host, whose allocator is its own.
    public static func keepActivationBuffers() {
        let environment = ProcessInfo.processInfo.environment
        if environment["GLIBC_TUNABLES"]?.contains("glibc.malloc.") == true
            || environment["MALLOC_MMAP_THRESHOLD_"] != nil || environment["MALLOC_TRIM_THRESHOLD_"] != nil {
            return
        }
        _ = assay_keep_heap_buffers(64 << 20, 256 << 20)
    }
}
