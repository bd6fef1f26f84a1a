import AssayCore
import Foundation

/// Per-item results kept as they finish (the results store), so that `assay run --resume` after
/// a kill or Ctrl-C skips what was done. A row is found by a key naming everything that made it:
/// the evaluator, its options, the model's hash, the item's content and the build of assay that
/// computed it (``buildIdentity``: a rebuilt engine never takes an older build's rows).
public protocol ItemCache: Sendable {
    /// The row kept under `key`, if any.
    func row(forKey key: String) -> ItemRow?
    /// Keeps `row` under `key` at once (committed: a kill right after loses nothing).
    func record(_ row: ItemRow, forKey key: String)
    /// The rows kept under `keys` (those there are), by key.
    func rows(forKeys keys: [String]) -> [String: ItemRow]
    /// Keeps `rows`, each under its key, committed together (items that finish in blocks).
    func record(_ rows: [(key: String, row: ItemRow)])
}

extension ItemCache {
    public func rows(forKeys keys: [String]) -> [String: ItemRow] {
        var found: [String: ItemRow] = [:]
        for key in keys { if let row = row(forKey: key) { found[key] = row } }
        return found
    }

    public func record(_ rows: [(key: String, row: ItemRow)]) {
        for (key, row) in rows { record(row, forKey: key) }
    }
}

/// The cache as one evaluation sees it: rows are always recorded, and read back only on
/// `--resume`; counts what it reused for the report.
public final class EvaluationItemCache: @unchecked Sendable {
    let cache: any ItemCache
    let resume: Bool
    /// The evaluation's settings: its evaluator id and options after defaults, canonical.
    let settings: String
    private let lock = NSLock()
    private var reused = 0

    /// Creates the view of `cache` for one evaluation.
    public init(cache: any ItemCache, resume: Bool, evaluator: String, options: [String: String]) {
        self.cache = cache
        self.resume = resume
        settings = ([evaluator] + options.keys.sorted().map { "\($0)=\(options[$0]!)" }).joined(separator: "\u{1F}")
    }

    /// The key of an item: these settings, `model` (a hash or a served model's name) and the
    /// item's `content`, with the build of assay.
    public func key(model: String, content: Data) -> String {
        var data = Data((settings + "\u{1E}" + model + "\u{1E}" + Self.buildIdentity + "\u{1E}").utf8)
        data.append(content)
        return SHA256.hex(data)
    }

    /// The key of an item that is a run of token ids (a perplexity or drift chunk): each as 4
    /// little-endian bytes.
    public func key(model: String, tokens: [Int]) -> String {
        var data = Data(capacity: tokens.count * 4)
        for token in tokens { withUnsafeBytes(of: Int32(truncatingIfNeeded: token).littleEndian) { data.append(contentsOf: $0) } }
        return key(model: model, content: data)
    }

    /// The build of assay: the SHA-256 of the running executable (any rebuild changes it, where a
    /// version number would stay), or the version where the executable cannot be read.
    public static let buildIdentity: String = {
        (try? SHA256.hex(fileAt: URL(fileURLWithPath: "/proc/self/exe"))) ?? "assay-" + AssayVersion.current
    }()

    /// The row kept for `key` when resuming; the caller calls ``taken()`` once it used it.
    public func row(forKey key: String) -> ItemRow? {
        guard resume else { return nil }
        return cache.row(forKey: key)
    }

    /// The rows kept for `keys` when resuming (by key); the caller calls ``taken(_:)`` for those it used.
    public func rows(forKeys keys: [String]) -> [String: ItemRow] {
        guard resume else { return [:] }
        return cache.rows(forKeys: keys)
    }

    /// Counts `count` items taken from the store (for the report's note).
    public func taken(_ count: Int = 1) {
        lock.lock()
        reused += count
        lock.unlock()
    }

    /// Keeps `row` for a later `--resume`.
    public func record(_ row: ItemRow, forKey key: String) { cache.record(row, forKey: key) }

    /// Keeps `rows` for a later `--resume`, committed together.
    public func record(_ rows: [(key: String, row: ItemRow)]) { cache.record(rows) }

    /// Items taken from the store so far.
    public var reusedCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return reused
    }
}

/// Where whole evaluation results are kept (the results store's `evaluation_cache`), so that
/// `assay run --reuse` can take an evaluation whose evaluator, options, models, data, earlier
/// results it reads and assay build are all unchanged.
public protocol ResultCache: Sendable {
    /// The result kept under `key` and the run that produced it, if any.
    func result(forKey key: String) -> (result: EvaluationResult, runID: String)?
    /// Keeps `result`, produced by run `runID`, under `key` (a failure to write only loses the reuse).
    func keep(_ result: EvaluationResult, forKey key: String, runID: String)
}
