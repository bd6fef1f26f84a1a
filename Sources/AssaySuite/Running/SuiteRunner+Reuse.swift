import AssayCore
import AssayEvaluators
import Foundation

/// What `assay run --reuse` keys a kept evaluation result by.
extension SuiteRunner {
    /// The key under which a whole run keeps `evaluation`'s result and `--reuse` looks it up: the
    /// SHA-256 of the evaluation's id, its evaluator and options after defaults, the content of
    /// the files its ``Evaluator/fileOptions`` name (a baseline), the content of its models
    /// (a file's SHA-256; every file of a directory — weights, config, tokenizer, templates), its
    /// dataset's declaration and files' SHA-256, the earlier results it reads
    /// (``Evaluator/dependencies(_:)``) and the assay executable's SHA-256. Nil — never reused —
    /// for a speed measurement (``Evaluator/reusable``), a served model (whose weights no hash
    /// names) or a model, file or earlier result that cannot be read.
    public func reuseKey(_ evaluation: EvaluationSpec, of suite: Suite, models: [ModelInfo], earlier: [String: EvaluationResult],
                         hashes: ContentHashes = ContentHashes()) -> String? {
        let type = evaluation.evaluator
        guard type.reusable else { return nil }
        let options = evaluation.options.values
        var parts = ["assay-reuse/1", evaluation.id, type.id, EvaluationItemCache.buildIdentity]
        for name in options.keys.sorted() { parts.append("option \(name)=\(options[name]!.description)") }
        for name in type.fileOptions.sorted() {
            guard case let .string(path)? = options[name] else { continue }
            guard let hash = hashes.hash(URL(fileURLWithPath: path)) else { return nil }
            parts.append("file \(name) \(hash)")
        }
        for (role, name) in [("model", evaluation.model), ("reference", evaluation.reference)] {
            guard let name else { continue }
            guard case let .file(url)? = suite.model(name) else { return nil }
            let known = models.first(where: { $0.name == name && $0.format == "gguf" })?.sha256
            guard let hash = known ?? hashes.hash(url) else { return nil }
            parts.append("\(role) \(hash)")
        }
        if let name = evaluation.dataset {
            guard let dataset = suite.datasets[name], let hash = ShardReport.contentHash(of: dataset) else { return nil }
            parts.append("dataset \(dataset) \(hash)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for dependency in type.dependencies(evaluation.options).sorted() {
            // Its numbers, items and signature; not the notes, which say how it was obtained
            // (taken by --reuse, resumed) rather than what it is.
            guard var result = earlier[dependency] else { return nil }
            result.notes = []
            for index in result.metrics.indices { result.metrics[index].note = nil }
            guard let data = try? encoder.encode(result) else { return nil }
            parts.append("earlier \(dependency) \(SHA256.hex(data))")
        }
        return SHA256.hex(Data(parts.joined(separator: "\u{1E}").utf8))
    }
}

/// Content hashes of model files and directories for ``SuiteRunner/reuseKey(_:of:models:earlier:hashes:)``,
/// each computed once per run: a regular file's SHA-256, or for a directory the SHA-256 of every
/// regular file's relative path and SHA-256 (its weights, config, tokenizer and templates alike).
/// Nil for what cannot be read, or is neither a regular file nor a directory (a FIFO is never read).
public final class ContentHashes: @unchecked Sendable {
    private let lock = NSLock()
    private var known: [String: String?] = [:]

    public init() {}

    public func hash(_ url: URL) -> String? {
        let path = url.standardizedFileURL.path
        lock.lock()
        if let hash = known[path] { lock.unlock(); return hash }
        lock.unlock()
        let hash = Self.compute(URL(fileURLWithPath: path))
        lock.lock()
        known[path] = .some(hash)
        lock.unlock()
        return hash
    }

    static func compute(_ url: URL) -> String? {
        guard let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .isDirectoryKey]) else { return nil }
        if values.isRegularFile == true { return try? SHA256.hex(fileAt: url) }
        guard values.isDirectory == true,
              let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey]) else { return nil }
        var lines: [String] = []
        let base = url.path.hasSuffix("/") ? url.path : url.path + "/"
        for case let file as URL in walker where (try? file.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            guard let hash = try? SHA256.hex(fileAt: file) else { return nil }
            lines.append(String(file.standardizedFileURL.path.dropFirst(base.count)) + " " + hash)
        }
        guard !lines.isEmpty else { return nil }
        return SHA256.hex(Data(lines.sorted().joined(separator: "\n").utf8))
    }
}
