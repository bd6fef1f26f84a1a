import AssayCore
import AssayStats

/// What one evaluation produced: metric values, per-item statistics and the signature.
public struct EvaluationResult: Sendable, Equatable, Codable {
    /// Metric values, in the order the evaluator declares them.
    public var metrics: [MetricValue]
    /// Per-item statistics (one row per segment, document or rated item).
    public var items: [ItemRow]
    /// Every setting that changed the numbers (sacrebleu style).
    public var signature: String
    /// Files for the report (charts), written beside it.
    public var artifacts: [Artifact]
    /// Notes made while there were no metrics to carry them (a shard's result): the merge puts
    /// them on the merged metrics.
    public var notes: [String] = []
    /// Show the per-item rows as a table in the Markdown report (for a few rows, such as per-chunk
    /// statistics); they are always in the items file.
    public var itemsInReport = false
    /// Notes on how this run obtained the result (items resumed, embeddings taken from the store),
    /// shown as ``addNote(_:)``'s are; ``withoutRunNotes()`` drops them from a result kept for
    /// `--reuse`, whose later run obtained it otherwise. Not encoded.
    public private(set) var runNotes: [String] = []

    enum CodingKeys: String, CodingKey {
        case metrics, items, signature, artifacts, notes, itemsInReport
    }

    /// Creates a result.
    public init(metrics: [MetricValue], items: [ItemRow] = [], signature: String, artifacts: [Artifact] = []) {
        self.metrics = metrics
        self.items = items
        self.signature = signature
        self.artifacts = artifacts
    }

    /// The metric called `name`, if present.
    public func metric(_ name: String) -> MetricValue? { metrics.first { $0.name == name } }

    /// Says on the first metric (a note every report shows) what a reader should know though the
    /// numbers stand: how many requests to a served model had to be repeated, how many items an
    /// interrupted run had finished (`--resume`).
    public mutating func addNote(_ summary: String?) {
        guard let summary else { return }
        guard !metrics.isEmpty else { return notes.append(summary) }
        metrics[0].note = metrics[0].note.map { $0 + "; " + summary } ?? summary
    }

    /// ``addNote(_:)`` for a note about how this run obtained the result (see ``runNotes``).
    public mutating func addRunNote(_ summary: String) {
        runNotes.append(summary)
        addNote(summary)
    }

    /// This result without its ``runNotes``.
    public func withoutRunNotes() -> EvaluationResult {
        var copy = self
        let drop = Set(runNotes)
        copy.notes.removeAll { drop.contains($0) }
        if let note = copy.metrics.first?.note {
            let kept = note.components(separatedBy: "; ").filter { !drop.contains($0) }
            copy.metrics[0].note = kept.isEmpty ? nil : kept.joined(separator: "; ")
        }
        copy.runNotes = []
        return copy
    }
}

/// Statistics of one item: its id in the dataset and named values.
public struct ItemRow: Sendable, Equatable, Codable {
    /// Values that hold an item's texts rather than statistics: `hypothesis` (or a model's
    /// `output`, with its `prompt`) and `references`; a perplexity chunk's `context`,
    /// `token_texts` and `token_nll`. Reports show them apart from the numbers.
    public static let textKeys: Set<String> = ["hypothesis", "output", "prompt", "references", "context", "token_texts", "token_nll"]

    /// Values only a merge reads — `quant-drift`'s per-chunk sufficient statistics, each token's
    /// KLD among them: in the items file and shard files, not in a report's tables.
    public static let mergeOnlyKeys: Set<String> = ["drift_stats", "token_cosines"]

    /// Item id (a JSONL `id` field or the 1-based line number).
    public var id: String
    /// Named statistics (sentence score, sufficient statistics, …).
    public var values: [String: JSONValue]

    /// Creates an item row.
    public init(id: String, values: [String: JSONValue]) {
        self.id = id
        self.values = values
    }

    /// This row with every registered secret masked in its values (an API key a server echoed
    /// into a generated text had reached the store and shard files; found by probing, 2026-12-07).
    /// The id, which names a dataset's item, stays.
    public func maskingSecrets() -> ItemRow {
        ItemRow(id: id, values: values.mapValues { $0.maskingSecrets() })
    }
}

extension ItemRow {
    /// The `count` non-negative integers under `key` (sufficient statistics a merge sums).
    /// - Throws: ``EvaluatorError/malformedDataset(path:line:message:hint:)`` naming the item.
    public func counts(_ key: String, count: Int) throws -> [Int] {
        guard case let .array(values)? = values[key], values.count == count else {
            throw malformed("'\(key)' must be an array of \(count) counts")
        }
        return try values.map { value in
            guard let d = value.number, let n = Int(exactly: d), n >= 0, n <= Int(Int32.max) else {
                throw malformed("'\(key)' holds \(value), not a count")
            }
            return n
        }
    }

    /// The numbers in the array under `key` (values a merge concatenates), null read as NaN as
    /// in ``number(_:)``.
    /// - Throws: ``EvaluatorError/malformedDataset(path:line:message:hint:)`` naming the item.
    public func numbers(_ key: String) throws -> [Double] {
        guard case let .array(values)? = values[key] else { throw malformed("'\(key)' must be an array of numbers") }
        return try values.map { value in
            if value == .null { return .nan }
            guard let d = value.number else { throw malformed("'\(key)' holds \(value), not a number") }
            return d
        }
    }

    /// The finite number under `key`.
    /// - Throws: ``EvaluatorError/malformedDataset(path:line:message:hint:)`` naming the item.
    public func finite(_ key: String) throws -> Double {
        guard let d = values[key]?.number, d.isFinite else { throw malformed("'\(key)' must be a finite number") }
        return d
    }

    /// The count under `key` (at most 2³¹ − 1, so that sums over rows cannot overflow).
    public func count(_ key: String) throws -> Int {
        guard let d = values[key]?.number, let n = Int(exactly: d), n >= 0, n <= Int(Int32.max) else { throw malformed("'\(key)' must be a count") }
        return n
    }

    /// The number under `key`, where null stands for a value that was not finite (JSON has no
    /// NaN): the caller's result is then not finite either, and the run says so.
    public func number(_ key: String) throws -> Double {
        switch values[key] {
        case let .number(d)?: return d
        case .null?: return .nan
        default: throw malformed("'\(key)' must be a number")
        }
    }

    func malformed(_ message: String) -> EvaluatorError {
        .malformedDataset(path: "item '\(id)'", line: nil, message: message,
                          hint: "the rows a merge reads come from `assay run --shard`; run that shard again with this version of assay")
    }
}

/// A chart an evaluation produces for its report, written beside it.
public struct Artifact: Sendable, Equatable, Codable {
    /// The chart of a metric's bootstrap replicates (`<run>.<evaluation>.bootstrap.svg`).
    public static func bootstrap(of metric: String, unit: String, replicates: [Double], estimate: Double, interval: Bootstrap.Interval) -> Artifact {
        Artifact(name: "bootstrap.svg", title: "\(metric): bootstrap distribution",
                 chart: .distribution(title: "\(metric) over \(replicates.count) bootstrap resamples (estimate and 95 % interval)", unit: unit,
                                      values: replicates, estimate: estimate, low: interval.low, high: interval.high))
    }

    /// File name suffix, e.g. `kappa-heatmap.svg`; written as `<run-id>.<evaluation>.<name>`.
    public var name: String
    /// What it shows, for the Markdown link.
    public var title: String
    /// The chart; the report draws it.
    public var chart: Chart

    /// Creates an artifact.
    public init(name: String, title: String, chart: Chart) {
        self.name = name
        self.title = title
        self.chart = chart
    }
}
