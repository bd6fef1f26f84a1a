import AssayCore
import Foundation

/// One of `count` parts of a run (`assay run --shard I/N`): every dataset's items are cut into
/// `count` contiguous blocks in dataset order and this shard evaluates block `index` (1-based), so
/// the shards' items, concatenated in shard order, are the dataset's items in order.
public struct Shard: Sendable, Equatable, Codable, CustomStringConvertible {
    /// 1-based position, 1…`count`.
    public let index: Int
    /// Number of shards, at least 1.
    public let count: Int

    /// The largest shard count accepted (a typo such as `1/40000` is refused, not run).
    public static let maximumCount = 10_000

    /// Creates shard `index` of `count`.
    /// - Throws: a ``Diagnostic`` unless 1 ≤ `index` ≤ `count` ≤ ``maximumCount``.
    public init(index: Int, count: Int) throws {
        guard count >= 1, count <= Self.maximumCount else {
            throw Diagnostic("the shard count must be 1…\(Self.maximumCount), got \(count)", hint: "give --shard I/N with N the number of jobs, e.g. --shard 1/4")
        }
        guard index >= 1, index <= count else {
            throw Diagnostic("shard \(index) of \(count) does not exist: shards are numbered 1…\(count)",
                             hint: "a 0-based scheduler index (Kubernetes JOB_COMPLETION_INDEX, a Slurm array from 0) is read by --shard auto")
        }
        self.index = index
        self.count = count
    }

    /// `I/N`.
    public var description: String { "\(index)/\(count)" }

    /// The items of `total` that this shard evaluates: block `index` of `count` near-equal
    /// contiguous blocks (the first `total % count` blocks are one item longer).
    public func range(of total: Int) -> Range<Int> {
        let base = total / count, extra = total % count
        let start = (index - 1) * base + min(index - 1, extra)
        return start..<(start + base + (index <= extra ? 1 : 0))
    }

    /// The variables ``init(parsing:environment:)`` reads for `auto`.
    public static let environmentVariables = ["ASSAY_SHARD", "JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"]

    /// Parses `--shard`: `I/N` (1-based), or `auto` / `auto/N` to take the index from the
    /// scheduler — `ASSAY_SHARD` (`I/N`), a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX`
    /// (0-based; N from `auto/N`), or a Slurm array's `SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN`
    /// with `SLURM_ARRAY_TASK_COUNT` (a step other than 1 is refused).
    /// - Throws: a ``Diagnostic`` saying what was read and how to fix it.
    public init(parsing text: String, environment: [String: String]) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2, let first = parts.first else { throw Self.syntax(text) }
        var count: Int?
        if parts.count == 2 {
            guard let n = Int(parts[1]) else { throw Self.syntax(text) }
            count = n
        }
        if let count { _ = try Shard(index: 1, count: count) }  // N in range before any arithmetic with it
        guard first == "auto" else {
            guard let index = Int(first), let count else { throw Self.syntax(text) }
            try self.init(index: index, count: count)
            return
        }
        func number(_ name: String) throws -> Int? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            guard let n = Int(value.trimmingCharacters(in: .whitespaces)) else {
                throw Diagnostic("--shard auto: \(name) is '\(value)', not an integer", hint: "unset it or give --shard I/N explicitly")
            }
            return n
        }
        if let given = environment["ASSAY_SHARD"], !given.isEmpty {
            let shard: Shard
            do {
                guard !given.hasPrefix("auto") else { throw Diagnostic("auto") }
                shard = try Shard(parsing: given, environment: [:])
            } catch {
                throw Diagnostic("--shard auto: ASSAY_SHARD is '\(given)', not a shard I/N with 1 ≤ I ≤ N", hint: "e.g. ASSAY_SHARD=2/4, or unset it")
            }
            if let count, count != shard.count {
                throw Diagnostic("--shard auto/\(count) but ASSAY_SHARD=\(given) says \(shard.count) shards", hint: "make the two agree")
            }
            self = shard
        } else if let index = try number("JOB_COMPLETION_INDEX") {
            guard let count else {
                throw Diagnostic("--shard auto: JOB_COMPLETION_INDEX gives the index but not the number of shards",
                                 hint: "give it as --shard auto/N with N the Job's completions (docs/distributed.md)")
            }
            guard index >= 0, index < count else {
                throw Diagnostic("--shard auto/\(count): JOB_COMPLETION_INDEX=\(index) is outside 0…\(count - 1)",
                                 hint: index < 0 ? "a Job's completion index is never negative: unset it, or give --shard I/N"
                                                 : "N in auto/N must be the Job's completions (more than \(index) here)")
            }
            try self.init(index: index + 1, count: count)
        } else if let id = try number("SLURM_ARRAY_TASK_ID") {
            let minimum = try number("SLURM_ARRAY_TASK_MIN") ?? 0
            if let step = try number("SLURM_ARRAY_TASK_STEP"), step != 1 {
                throw Diagnostic("--shard auto: the Slurm array steps by \(step)", hint: "use a contiguous array (--array=0-3) or give --shard I/N")
            }
            guard let total = try number("SLURM_ARRAY_TASK_COUNT") ?? count else {
                throw Diagnostic("--shard auto: SLURM_ARRAY_TASK_COUNT is not set", hint: "give --shard auto/N")
            }
            guard total >= 1 else {
                throw Diagnostic("--shard auto: SLURM_ARRAY_TASK_COUNT is \(total), not a number of tasks", hint: "unset it and give --shard auto/N, or --shard I/N")
            }
            if let count, count != total {
                throw Diagnostic("--shard auto/\(count) but the Slurm array has \(total) tasks", hint: "make the two agree")
            }
            guard minimum >= 0, id >= minimum, id - minimum < total else {
                throw Diagnostic("--shard auto: SLURM_ARRAY_TASK_ID=\(id) with SLURM_ARRAY_TASK_MIN=\(minimum) is not one of the array's \(total) tasks",
                                 hint: "use a contiguous array (--array=0-\(max(total, 1) - 1)) or give --shard I/N")
            }
            try self.init(index: id - minimum + 1, count: total)
        } else {
            throw Diagnostic("--shard auto: none of \(Self.environmentVariables.joined(separator: ", ")) is set",
                             hint: "give --shard I/N (in a CI matrix: --shard ${{ matrix.shard }}/N)")
        }
    }

    private static func syntax(_ text: String) -> Diagnostic {
        Diagnostic("--shard takes I/N, auto or auto/N, got '\(text)'", hint: "e.g. --shard 2/4 runs the second of four parts")
    }
}

/// How an evaluation is split by `assay run --shard` and put back together by `assay merge`.
public enum ShardMode: String, Sendable, Codable {
    /// Each shard evaluates its block of the dataset's items; the merge computes the metrics from
    /// all items' rows with ``Evaluator/merge(items:signature:in:)``, exactly as an unsharded run.
    case items
    /// Runs whole in shard 1 (no items to split, or not split yet); the merge takes its result.
    case firstShard = "first-shard"
    /// Needs no model and reads earlier evaluations' items: runs at merge time, on all of them.
    case atMerge = "at-merge"
}
