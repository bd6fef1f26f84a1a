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
        OptionSpec("resamples", .integer(minimum: 1), default: .integer(1000), "bootstrap resamples"),
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

    public func evaluate(in context: EvaluationContext) async throws -> EvaluationResult {
        let corpus = try context.parallelCorpus(for: Self.id)
        let stats = bleu.statistics(hypotheses: corpus.hypotheses, references: corpus.references)
        try context.checkCancellation()
        let total = BLEUStatistics.sum(stats, order: bleu.configuration.maxOrder)
        let score = bleu.score(total)
        var interval: Bootstrap.Interval?
        var artifacts: [Artifact] = []
        if let bootstrap {
            let draws = Bootstrap.indices(count: stats.count, resamples: bootstrap.resamples, seed: bootstrap.seed)
            let replicates = draws.map { bleu.score(BLEUStatistics.sum($0.lazy.map { stats[$0] }, order: 4)).score }
            let ci = Bootstrap.interval(replicates)
            interval = ci
            artifacts.append(Artifact.bootstrap(of: "BLEU", unit: "BLEU", replicates: replicates, estimate: score.score, interval: ci))
        }
        let ratio = total.referenceLength > 0 ? Double(total.hypothesisLength) / Double(total.referenceLength) : 0
        let items = stats.indices.map { i in
            ItemRow(id: corpus.ids[i], values: corpus.itemTexts(i).merging([
                "sentence_bleu": .number(sentenceBLEU.score(stats[i]).score),
                "stats": .array(stats[i].flat.map { .number(Double($0)) }),
            ]) { _, statistic in statistic })
        }
        return EvaluationResult(
            metrics: [
                MetricValue(name: "score", value: score.score, ciLow: interval?.low, ciHigh: interval?.high,
                            unit: "BLEU", higherIsBetter: true),
                MetricValue(name: "bp", value: score.brevityPenalty, higherIsBetter: true),
                MetricValue(name: "ratio", value: ratio, higherIsBetter: true),
            ],
            items: items,
            signature: bleu.signature(references: ReferenceCount(corpus.references), bootstrap: bootstrap).description,
            artifacts: artifacts)
    }
}
