import AssayMetrics
import AssayStats

/// Corpus BLEU over a parallel or JSONL dataset, identical to sacrebleu 2.6.0; per-item rows hold
/// sentence BLEU (effective order, as `sacrebleu --sentence-level`) and the sufficient statistics.
public struct BLEUEvaluator: Evaluator {
    public static let id = "bleu"
    public static let summary = "Corpus BLEU identical to sacrebleu 2.x (tokenizers 13a/intl/zh/char/none, smoothing, bootstrap CI)"
    public static let options: [OptionSpec] = [
        OptionSpec("tokenize", .choice(MTTokenizers.names), default: .string("13a"), "MT tokenizer"),
        OptionSpec("lowercase", .bool, default: .bool(false), "lowercase hypotheses and references"),
        OptionSpec("smooth", .choice(BLEU.Smoothing.names), default: .string("exp"), "smoothing method"),
        OptionSpec("smooth_value", .number(exclusiveMinimum: 0), default: nil, "value for floor (0.1) or add-k (1)"),
        OptionSpec("confidence", .bool, default: .bool(false), "bootstrap 95 % confidence interval"),
        OptionSpec("resamples", .integer(minimum: 1, maximum: Bootstrap.maximumResamples), default: .integer(1000), "bootstrap resamples"),
        OptionSpec("seed", .integer(minimum: 0), default: .integer(12345), "bootstrap seed"),
    ]
    public static let metrics: [MetricSpec] = [
        MetricSpec("score", higherIsBetter: true, unit: "BLEU", summary: "corpus BLEU, 0–100"),
        MetricSpec("bp", higherIsBetter: true, summary: "brevity penalty"),
        MetricSpec("ratio", higherIsBetter: true, summary: "hypothesis length / reference length"),
    ]
    public static let datasetKinds: [DatasetKind] = [.parallel, .jsonl]
    public static let modelRoles: ModelRoles = .none

    let bleu: BLEU
    let sentenceBLEU: BLEU
    let bootstrap: (resamples: Int, seed: UInt64)?

    public init(options: OptionValues) throws {
        let smoothing = try BLEU.Smoothing(name: options.string("smooth") ?? "exp", value: options.number("smooth_value"))
        let configuration = BLEU.Configuration(
            tokenizer: options.string("tokenize") ?? "13a", lowercase: options.bool("lowercase"), smoothing: smoothing)
        bleu = try BLEU(configuration)
        var sentence = configuration
        sentence.effectiveOrder = true
        sentenceBLEU = try BLEU(sentence)
        bootstrap = options.bool("confidence")
            ? (options.integer("resamples") ?? 1000, UInt64(options.integer("seed") ?? 12345)) : nil
    }

    public static let sharding = ShardMode.items

    public func evaluate(in context: EvaluationContext) async throws -> EvaluationResult {
        let corpus = try context.parallelCorpus(for: Self.id)
        let range = context.itemRange(of: corpus.ids.count)
        let stats = bleu.statistics(hypotheses: Array(corpus.hypotheses[range]), references: Array(corpus.references[range]))
        try context.checkCancellation()
        let items = zip(range, stats).map { i, stats in
            ItemRow(id: corpus.ids[i], values: corpus.itemTexts(i).merging([
                "sentence_bleu": .number(sentenceBLEU.score(stats).score),
                "stats": .array(stats.flat.map { .number(Double($0)) }),
            ]) { _, statistic in statistic })
        }
        return try finish(items: items, signature: bleu.signature(references: ReferenceCount(corpus.references), bootstrap: bootstrap).description,
                          in: context)
    }

    /// Shard rows checked against the dataset: each the item in that place, with its texts, and
    /// with the statistics those texts give (BLEU of 97.95 had been merged from edited counts).
    public func checkShardRows(_ items: [ItemRow], in context: EvaluationContext) throws {
        try context.parallelCorpus(for: Self.id).checkMerged(items, statistics: { bleu.statistics(hypotheses: $0, references: $1).map(\.flat) },
                                                              width: 2 + 2 * bleu.configuration.maxOrder)
    }

    /// Corpus BLEU from the rows' sufficient statistics (`stats`, sacrebleu's flat layout).
    public func merge(items: [ItemRow], signature: String, in context: EvaluationContext) throws -> EvaluationResult {
        guard !items.isEmpty else { throw MetricsError.emptyInput(what: "segments") }
        let order = bleu.configuration.maxOrder
        let stats = try items.map { row in
            let flat = try row.counts("stats", count: 2 + 2 * order)
            // A hypothesis of L tokens has max(0, L − n + 1) n-grams, of which at most all match.
            for n in 0..<order where flat[2 + order + n] != max(0, flat[0] - n) || flat[2 + n] > flat[2 + order + n] {
                throw row.malformed("its \(n + 1)-gram counts (\(flat[2 + n]) matching of \(flat[2 + order + n])) cannot come from a hypothesis of \(flat[0]) tokens")
            }
            return BLEUStatistics(hypothesisLength: flat[0], referenceLength: flat[1], correct: Array(flat[2..<(2 + order)]),
                                  total: Array(flat[(2 + order)...]))
        }
        let total = BLEUStatistics.sum(stats, order: order)
        let score = bleu.score(total)
        var interval: Bootstrap.Interval?
        var artifacts: [Artifact] = []
        if let bootstrap {
            let draws = Bootstrap.indices(count: stats.count, resamples: bootstrap.resamples, seed: bootstrap.seed)
            let replicates = draws.map { bleu.score(BLEUStatistics.sum($0.lazy.map { stats[$0] }, order: order)).score }
            let ci = Bootstrap.interval(replicates)
            interval = ci
            artifacts.append(Artifact.bootstrap(of: "BLEU", unit: "BLEU", replicates: replicates, estimate: score.score, interval: ci))
        }
        let ratio = total.referenceLength > 0 ? Double(total.hypothesisLength) / Double(total.referenceLength) : 0
        return EvaluationResult(
            metrics: [
                MetricValue(name: "score", value: score.score, ciLow: interval?.low, ciHigh: interval?.high,
                            unit: "BLEU", higherIsBetter: true),
                MetricValue(name: "bp", value: score.brevityPenalty, higherIsBetter: true),
                MetricValue(name: "ratio", value: ratio, higherIsBetter: true),
            ],
            items: items, signature: signature, artifacts: artifacts)
    }
}
