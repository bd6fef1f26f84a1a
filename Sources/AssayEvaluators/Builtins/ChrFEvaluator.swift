import AssayMetrics
import AssayStats

/// Corpus chrF (or chrF++ with `word_order: 2`) identical to sacrebleu 2.6.0; per-item rows
/// hold sentence chrF and the sufficient statistics.
public struct ChrFEvaluator: Evaluator {
    public static let id = "chrf"
    public static let summary = "chrF / chrF++ identical to sacrebleu 2.x (word_order: 2 for chrF++)"
    public static let options: [OptionSpec] = [
        OptionSpec("char_order", .integer(minimum: 1), default: .integer(6), "character n-gram order (at most 6)"),
        OptionSpec("word_order", .integer(minimum: 0), default: .integer(0), "word n-gram order: 0 chrF, 2 chrF++ (at most 4)"),
        OptionSpec("beta", .integer(minimum: 1, maximum: 1000), default: .integer(2), "recall weight"),
        OptionSpec("lowercase", .bool, default: .bool(false), "lowercase hypotheses and references"),
        OptionSpec("whitespace", .bool, default: .bool(false), "keep whitespace in character n-grams"),
        OptionSpec("eps_smoothing", .bool, default: .bool(false), "epsilon smoothing (chrF++.py, NLTK) instead of effective order"),
        OptionSpec("confidence", .bool, default: .bool(false), "bootstrap 95 % confidence interval"),
        OptionSpec("resamples", .integer(minimum: 1, maximum: Bootstrap.maximumResamples), default: .integer(1000), "bootstrap resamples"),
        OptionSpec("seed", .integer(minimum: 0), default: .integer(12345), "bootstrap seed"),
    ]
    public static let metrics: [MetricSpec] = [
        MetricSpec("score", higherIsBetter: true, unit: "chrF", summary: "corpus chrF, 0–100"),
    ]
    public static let datasetKinds: [DatasetKind] = [.parallel, .jsonl]
    public static let modelRoles: ModelRoles = .none

    let chrf: ChrF
    let bootstrap: (resamples: Int, seed: UInt64)?

    public init(options: OptionValues) throws {
        do {
            chrf = try ChrF(.init(
                charOrder: options.integer("char_order") ?? 6, wordOrder: options.integer("word_order") ?? 0,
                beta: options.integer("beta") ?? 2, lowercase: options.bool("lowercase"),
                whitespace: options.bool("whitespace"), epsilonSmoothing: options.bool("eps_smoothing")))
        } catch let MetricsError.invalidOption(name, value, reason) {
            throw EvaluatorError.invalidOption(name: name.replacingOccurrences(of: " ", with: "_"), message: "\(value) \(reason)")
        }
        bootstrap = options.bool("confidence")
            ? (options.integer("resamples") ?? 1000, UInt64(options.integer("seed") ?? 12345)) : nil
    }

    public static let sharding = ShardMode.items

    public func evaluate(in context: EvaluationContext) async throws -> EvaluationResult {
        let corpus = try context.parallelCorpus(for: Self.id)
        let range = context.itemRange(of: corpus.ids.count)
        let stats = chrf.statistics(hypotheses: Array(corpus.hypotheses[range]), references: Array(corpus.references[range]))
        try context.checkCancellation()
        let items = zip(range, stats).map { i, stats in
            ItemRow(id: corpus.ids[i], values: corpus.itemTexts(i).merging([
                "sentence_chrf": .number(chrf.score(stats)),
                "stats": .array(stats.map { .number(Double($0)) }),
            ]) { _, statistic in statistic })
        }
        return try finish(items: items, signature: chrf.signature(references: ReferenceCount(corpus.references), bootstrap: bootstrap).description,
                          in: context)
    }

    /// Shard rows checked against the dataset: each the item in that place, with its texts, and
    /// with the statistics those texts give.
    public func checkShardRows(_ items: [ItemRow], in context: EvaluationContext) throws {
        try context.parallelCorpus(for: Self.id).checkMerged(items, statistics: chrf.statistics(hypotheses:references:), width: 3 * chrf.order)
    }

    /// Corpus chrF from the rows' sufficient statistics (`stats`).
    public func merge(items: [ItemRow], signature: String, in context: EvaluationContext) throws -> EvaluationResult {
        guard !items.isEmpty else { throw MetricsError.emptyInput(what: "segments") }
        let stats = try items.map { row in
            let flat = try row.counts("stats", count: 3 * chrf.order)
            // Per order: the hypothesis's n-grams, the reference's and the matches, at most either.
            for i in 0..<chrf.order where flat[3 * i + 2] > min(flat[3 * i], flat[3 * i + 1]) {
                throw row.malformed("its order-\(i + 1) counts match \(flat[3 * i + 2]) of \(flat[3 * i]) hypothesis and \(flat[3 * i + 1]) reference n-grams")
            }
            return flat
        }
        let score = chrf.score(chrf.sum(stats))
        var interval: Bootstrap.Interval?
        var artifacts: [Artifact] = []
        if let bootstrap {
            let draws = Bootstrap.indices(count: stats.count, resamples: bootstrap.resamples, seed: bootstrap.seed)
            let replicates = draws.map { chrf.score(chrf.sum($0.lazy.map { stats[$0] })) }
            let ci = Bootstrap.interval(replicates)
            interval = ci
            artifacts.append(Artifact.bootstrap(of: chrf.name, unit: chrf.name, replicates: replicates, estimate: score, interval: ci))
        }
        return EvaluationResult(
            metrics: [MetricValue(name: "score", value: score, ciLow: interval?.low, ciHigh: interval?.high,
                                  unit: chrf.name, higherIsBetter: true)],
            items: items, signature: signature, artifacts: artifacts)
    }
}
