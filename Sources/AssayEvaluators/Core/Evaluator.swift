import AssayMetrics
import Foundation

/// An evaluation method that plugs into suites: BLEU, chrF, perplexity, …
///
/// An evaluator declares its options and metrics (for validation, gates and `assay list`),
/// is created from validated options, and evaluates in a context that gives it its dataset,
/// its models and a progress reporter. Register a new one with one line in
/// `EvaluatorRegistry+Builtins.swift`.
public protocol Evaluator: Sendable {
    /// The id used in suites (`evaluator: bleu`), kebab-case.
    static var id: String { get }
    /// One line for `assay list`.
    static var summary: String { get }
    /// Options accepted under `options:`.
    static var options: [OptionSpec] { get }
    /// Metrics produced, addressable by gates as `<evaluation id>.<metric>`.
    static var metrics: [MetricSpec] { get }
    /// Dataset kinds accepted; empty when the evaluator takes no dataset.
    static var datasetKinds: [DatasetKind] { get }
    /// Whether the evaluator needs `model:` (and `reference:`).
    static var modelRoles: ModelRoles { get }

    /// Creates the evaluator from validated options (defaults filled in).
    /// - Throws: ``EvaluatorError/invalidOption(name:message:)`` for combinations the specs
    ///   cannot express.
    init(options: OptionValues) throws

    /// Ids of earlier evaluations of the suite whose per-item results this one reads (for
    /// example `bleu` for `metric: bleu.sentence_bleu`). The suite loader checks they exist and
    /// come earlier.
    static func dependencies(_ options: OptionValues) -> [String]

    /// Why `metric` (one of ``metrics``) has no value with these options, with what would give it
    /// one; nil when it is produced. The suite loader refuses a gate on such a metric (the run
    /// would only say "metric has no value"). nil unless declared.
    static func absentMetric(_ metric: String, options: OptionValues) -> String?

    /// Likewise, for a metric computed from the evaluations this one reads (``dependencies(_:)``):
    /// `earlier` gives such an evaluation's evaluator and options by id. nil unless declared.
    static func absentMetric(_ metric: String, options: OptionValues, reading earlier: (String) -> (evaluator: any Evaluator.Type, options: OptionValues)?) -> String?

    /// Why this evaluator cannot take `model` as its `role` with these options — a served model
    /// where it needs a local file, or the reverse — with what it takes; nil when it can. The suite
    /// loader refuses such an evaluation where it is written (the run would only fail on reaching
    /// it); `evaluate` says the same if called with one. nil unless declared.
    static func refusedModel(_ model: ModelSpec, role: ModelRoles, options: OptionValues) -> String?

    /// Runs the evaluation.
    /// - Throws: anything that prevents a result; the runner records it as the evaluation's
    ///   error and carries on with the other evaluations.
    func evaluate(in context: EvaluationContext) async throws -> EvaluationResult

    /// How `assay run --shard` splits the evaluation (``ShardMode/firstShard`` unless declared).
    static var sharding: ShardMode { get }

    /// Whether `assay run --reuse` may take an earlier run's result when nothing it depends on
    /// changed (true unless declared). Speed measurements say false: they measure the machine
    /// now, which no file's hash captures.
    static var reusable: Bool { get }

    /// Options whose values name files the evaluator reads (a rescaling baseline): their content
    /// is part of the `--reuse` key.
    static var fileOptions: [String] { get }

    /// Options that change no item's row (batch sizes, the bootstrap's resamples and seed): left
    /// out of the keys of rows kept for `--resume`, so that a run resumed with another batch size
    /// (after running out of memory, say) still takes them.
    static var optionsRowsIgnore: Set<String> { get }

    /// For ``ShardMode/items``: the result of all items from their rows — every shard's, in shard
    /// order — and the signature every shard reported. An unsharded `evaluate` ends in this same
    /// function, so a merged run equals an unsharded one value for value.
    /// - Throws: ``EvaluatorError/malformedDataset(path:line:message:hint:)`` when a row lacks
    ///   what it needs (a shard file edited by hand, or from another version).
    func merge(items: [ItemRow], signature: String, in context: EvaluationContext) throws -> EvaluationResult

    /// For ``ShardMode/items``: checks shard rows against what the merge can read again (the
    /// dataset) before ``merge(items:signature:in:)`` — an edited shard file is refused, not
    /// merged. Called by `assay merge` only: an unsharded run computed its rows itself.
    func checkShardRows(_ items: [ItemRow], in context: EvaluationContext) throws
}

extension Evaluator {
    public static func dependencies(_ options: OptionValues) -> [String] { [] }
    public static func absentMetric(_ metric: String, options: OptionValues) -> String? { nil }
    public static func absentMetric(_ metric: String, options: OptionValues,
                                    reading earlier: (String) -> (evaluator: any Evaluator.Type, options: OptionValues)?) -> String? { nil }
    public static func refusedModel(_ model: ModelSpec, role: ModelRoles, options: OptionValues) -> String? { nil }
    public static var sharding: ShardMode { .firstShard }
    public static var reusable: Bool { true }
    public static var fileOptions: [String] { [] }
    public static var optionsRowsIgnore: Set<String> { [] }
    public func merge(items: [ItemRow], signature: String, in context: EvaluationContext) throws -> EvaluationResult {
        throw EvaluatorError.invalidOption(name: "evaluator", message: "'\(Self.id)' does not merge items (it runs whole in shard 1)")
    }

    public func checkShardRows(_ items: [ItemRow], in context: EvaluationContext) throws {}

    /// How an ``ShardMode/items`` evaluator's `evaluate` ends once it has its rows: in a shard the
    /// rows and the signature alone (the merge computes the metrics from every shard's rows),
    /// otherwise ``merge(items:signature:in:)`` of all rows — where a row it cannot take came
    /// from this run's model or server, not from a shard file, and the hint says so.
    public func finish(items: [ItemRow], signature: String, in context: EvaluationContext) throws -> EvaluationResult {
        guard context.shard != nil else {
            do { return try merge(items: items, signature: signature, in: context) } catch let EvaluatorError.malformedDataset(path, line, message, _) {
                throw EvaluatorError.malformedDataset(path: path, line: line, message: message,
                                                      hint: "this run computed the row from its inputs (the dataset, the model's or server's answers); with a served model, check the counts and log-probabilities the server reports")
            }
        }
        return EvaluationResult(metrics: [], items: items, signature: signature)
    }
}

/// Which models an evaluator needs.
public struct ModelRoles: Sendable, Equatable, OptionSet {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Needs `model:`.
    public static let model = ModelRoles(rawValue: 1)
    /// Needs `reference:` (a second model to compare against).
    public static let reference = ModelRoles(rawValue: 2)
    /// Needs no model.
    public static let none: ModelRoles = []
}

/// Everything an evaluation may use.
public struct EvaluationContext: Sendable {
    /// The evaluation's id in the suite.
    public var evaluationID: String
    /// Its dataset, if it has one.
    public var dataset: DatasetSpec?
    /// The model under `model:`, if any.
    public var model: ModelSpec?
    /// The model under `reference:`, if any.
    public var reference: ModelSpec?
    /// Where progress goes (nothing reaches a terminal unless the caller wants it to).
    public var progress: any ProgressReporter
    /// Results of the suite's earlier evaluations that finished, by evaluation id.
    public var earlierResults: [String: EvaluationResult]
    /// The part of every dataset's items to evaluate (`assay run --shard`), or nil for all.
    public var shard: Shard?
    /// Where per-item results are kept as they finish (and read back on `--resume`), if anywhere.
    public var itemCache: EvaluationItemCache?
    /// Where BERTScore keeps reference embeddings between runs (the results store), if anywhere.
    public var embeddingCache: (any BERTScore.EmbeddingCache)?

    /// Creates a context.
    public init(evaluationID: String, dataset: DatasetSpec? = nil, model: ModelSpec? = nil,
                reference: ModelSpec? = nil, progress: any ProgressReporter = SilentProgress(),
                earlierResults: [String: EvaluationResult] = [:]) {
        self.evaluationID = evaluationID
        self.dataset = dataset
        self.model = model
        self.reference = reference
        self.progress = progress
        self.earlierResults = earlierResults
    }

    /// The dataset as hypotheses with references, for MT metrics.
    /// - Throws: when the evaluation has no dataset, it is of another kind, a file is malformed,
    ///   or it holds no segments.
    public func parallelCorpus(for evaluator: String) throws -> ParallelCorpus {
        guard let dataset else { throw EvaluatorError.missingDataset(evaluator: evaluator) }
        let corpus = try ParallelCorpus.load(dataset, evaluator: evaluator)
        guard !corpus.hypotheses.isEmpty else { throw MetricsError.emptyInput(what: "segments") }
        try checkCancellation()
        return corpus
    }

    /// The numeric per-item value `value` of the earlier evaluation `evaluation`, by item id (what
    /// `agreement` and `paired-delta` compare).
    /// - Throws: ``EvaluatorError/invalidOption(name:message:)`` naming `option` when that
    ///   evaluation has no results or no such numeric value (listing the values it has).
    public func itemValues(of evaluation: String, value: String, option: String) throws -> [String: Double] {
        guard let result = earlierResults[evaluation] else {
            throw EvaluatorError.invalidOption(name: option, message: "evaluation '\(evaluation)' has no results (it failed or did not run)")
        }
        var byItem: [String: Double] = [:]
        for row in result.items { if let v = row.values[value]?.number { byItem[row.id] = v } }
        guard !byItem.isEmpty else {
            let names = Set(result.items.flatMap(\.values.keys)).sorted()
            throw EvaluatorError.invalidOption(name: option, message: "evaluation '\(evaluation)' has no numeric per-item value '\(value)'"
                                               + (names.isEmpty ? "" : " (it has: \(names.joined(separator: ", ")))"))
        }
        return byItem
    }

    /// The indices of `total` items this evaluation evaluates: all, or its shard's block. A shard
    /// records `total` in ``itemTotal``: the merge checks every shard saw the same number.
    public func itemRange(of total: Int) -> Range<Int> {
        itemTotal?.record(total)
        return shard?.range(of: total) ?? 0..<total
    }

    /// Where ``itemRange(of:)`` records the dataset's item count, in a shard.
    public var itemTotal: ItemTotal?

    /// Throws ``EvaluatorError/cancelled`` when the run was interrupted.
    public func checkCancellation() throws {
        if Task.isCancelled { throw EvaluatorError.cancelled }
    }
}

/// Receives progress of long work; library code never prints.
public protocol ProgressReporter: Sendable {
    /// `completed` of `total` units of `evaluation` are done.
    func update(evaluation: String, completed: Int, total: Int, detail: String)
    /// Evaluation number `index` (1-based) of `count` starts.
    func evaluationStarted(_ evaluation: String, evaluator: String, index: Int, count: Int)
    /// An evaluation ended with `status` (`ok`, `error`, `interrupted`) after `seconds`.
    func evaluationFinished(_ evaluation: String, status: String, seconds: Double)
}

extension ProgressReporter {
    public func evaluationStarted(_ evaluation: String, evaluator: String, index: Int, count: Int) {}
    public func evaluationFinished(_ evaluation: String, status: String, seconds: Double) {}
}

/// A reporter that drops everything.
public struct SilentProgress: ProgressReporter {
    public init() {}
    public func update(evaluation: String, completed: Int, total: Int, detail: String) {}
}

/// The number of items an evaluation's dataset holds, as ``EvaluationContext/itemRange(of:)`` saw it.
public final class ItemTotal: @unchecked Sendable {
    private let lock = NSLock()
    private var total: Int?

    public init() {}

    func record(_ count: Int) {
        lock.lock()
        total = count
        lock.unlock()
    }

    /// The count, once the evaluation asked for its items.
    public var value: Int? {
        lock.lock()
        defer { lock.unlock() }
        return total
    }
}
