import CAssayKernels

/// The kernels' threads: a persistent pool (`CAssayKernels`' pool.c) of one worker per available
/// CPU but the caller's; work large enough to pay for the hand-off is split into two chunks per
/// thread, which the threads claim until none is left. OpenBLAS keeps its own threads, set to the same count (``BLAS/threads``).
public enum Threads {
    /// Threads the kernels use (`assay … --threads`; default: ``available``).
    public static var count: Int {
        get { Int(assay_threads()) }
        set { assay_set_threads(Int32(newValue)) }
    }

    /// The CPUs this process may use: the smaller of its affinity mask (taskset, cpusets, Slurm's
    /// `--cpus-per-task`, docker `--cpuset-cpus`) and its cgroup's CPU limit rounded up (docker
    /// `--cpus`, a Kubernetes CPU limit). The default thread count: more threads than CPUs wait on
    /// each other (the pool then stops spinning, but is still slower than one thread per CPU).
    public static var available: Int { Int(assay_available_cpus()) }

    /// The smallest CPU limit of the cgroups a `/proc/self/cgroup`-format file names, read under
    /// `root` (cgroupfs's mount) with their ancestors, or nil when none is set (``available``
    /// reads /proc/self/cgroup under /sys/fs/cgroup).
    static func cgroupCPULimit(procCgroup: String, root: String) -> Int? {
        let limit = Int(assay_cgroup_cpu_limit(procCgroup, root))
        return limit > 0 ? limit : nil
    }

    /// Below this many bytes of weights per thread one thread does the work.
    static let minimumBytesPerPart = 1 << 15

    /// Runs `body(task, part)` for every task in `0..<count` on the pool: the caller and the
    /// workers claim tasks one at a time, `part` being the thread's index (below `parts`, the
    /// pool's thread count and `count`: for per-thread scratch), and this returns when all have
    /// finished. Tasks run in any order, on any thread; tasks and the kernels' parallel products
    /// that a task asks for run on its thread alone (the pool runs one job at a time). OpenBLAS
    /// calls belong inside ``BLAS/singleThreaded(_:)``.
    public static func forEachTask(_ count: Int, parts: Int, _ body: (_ task: Int, _ part: Int) -> Void) {
        guard count > 0 else { return }
        withoutActuallyEscaping(body) { body in
            var closure = body
            withUnsafeMutablePointer(to: &closure) { pointer in
                assay_parallel_tasks(Int64(count), Int32(parts), { context, task, part in
                    context!.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee(Int(task), Int(part))
                }, pointer)
            }
        }
    }

    /// Runs `body` on ranges of `0..<count` that together cover it once: a few ranges per thread
    /// on the pool (``forEachTask(_:parts:_:)``'s rules) when the rows hold at least 32 768 values
    /// in all (`rowLength` each) — an element-wise kernel over a prompt's activations — and the
    /// whole range on this thread otherwise.
    public static func forEachRange(of count: Int, rowLength: Int, _ body: (Range<Int>) -> Void) {
        let parts = Self.count
        guard parts > 1, count >= 2, count * rowLength >= 1 << 15 else {
            if count > 0 { body(0..<count) }
            return
        }
        let chunks = min(count, 4 * parts)
        forEachTask(chunks, parts: parts) { t, _ in body((count * t / chunks)..<(count * (t + 1) / chunks)) }
    }
}
