import ArgumentParser
import AssayTensor
import Foundation

/// `--threads N` for commands that run a model: OpenBLAS's threads and the quantized kernels'
/// pool (docs/engine.md). Default: the CPUs this process may use (``Threads/available``).
struct ThreadOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional,
            help: "Threads for the model's matrix products (default: the CPUs this process may use — its affinity mask and cgroup CPU limit).")
    var threads: Int?

    func validate() throws {
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
    }

    /// Sets the thread count, when one was given.
    func apply() {
        if let threads { BLAS.threads = threads }
    }
}
