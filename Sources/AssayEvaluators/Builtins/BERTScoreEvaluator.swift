import AssayCore
import AssayMetrics
import AssayModels
import AssayProcedures
import AssayStats
import AssayTensor
import Foundation

/// BERTScore of a parallel or JSONL dataset with the evaluation's `model:` as the encoder (a
/// BERT/RoBERTa Hugging Face directory), identical to bert_score 0.3.13 (docs/metrics.md). Per-item
/// rows hold precision, recall and f1, so `agreement` can compare them with human ratings
/// (`metric: <id>.f1`).
public struct BERTScoreEvaluator: Evaluator {
    public static let id = "bertscore"
    public static let summary = "BERTScore P/R/F1 identical to bert_score 0.3.13, on the in-repo BERT/RoBERTa encoder (model: an encoder directory)"
    public static let fileOptions = ["rescale"]
    public static let options: [OptionSpec] = [
        OptionSpec("layer", .integer(minimum: 0), default: nil, "hidden layer (default: bert_score's tuned layer for known models, else the last)"),
        OptionSpec("idf", .bool, default: .bool(false), "weight tokens by idf over the references"),
        OptionSpec("rescale", .string, default: nil, "baseline file (LAYER,P,R,F) to rescale with; see assay bertscore-baseline"),
        OptionSpec("exclude_special_from_matching", .bool, default: .bool(false), "leave [CLS]/[SEP] out of the similarity matrix (bert_score issue #180)"),
        OptionSpec("quantize", .choice(["none", "q8_0", "q4_0"]), default: .string("none"), "quantize the encoder's projections in memory first"),
        OptionSpec("batch_tokens", .integer(minimum: 1), default: .integer(8192), "tokens per encoder batch"),
        OptionSpec("resamples", .integer(minimum: 0), default: .integer(1000), "bootstrap resamples for the mean F1's 95 % interval (0: none)"),
        OptionSpec("seed", .integer(minimum: 0), default: .integer(12345), "bootstrap seed"),
    ]
    public static let metrics: [MetricSpec] = [
        MetricSpec("f1", higherIsBetter: true, summary: "mean BERTScore F1 over items (bootstrap 95 % interval)"),
        MetricSpec("precision", higherIsBetter: true, summary: "mean BERTScore precision"),
        MetricSpec("recall", higherIsBetter: true, summary: "mean BERTScore recall"),
    ]
    public static let datasetKinds: [DatasetKind] = [.parallel, .jsonl]
    public static let modelRoles: ModelRoles = .model

    let options: BERTScorer.Options
    let rescalePath: String?
    let quantize: GGMLType?
    let resamples: Int
    let seed: UInt64

    public init(options: OptionValues) throws {
        rescalePath = options.string("rescale")
        self.options = BERTScorer.Options(layer: options.integer("layer"), idf: options.bool("idf"),
                                          excludeSpecialFromMatching: options.bool("exclude_special_from_matching"),
                                          batchTokens: options.integer("batch_tokens") ?? 8192)
        quantize = switch options.string("quantize") {
        case "q8_0": .q8_0
        case "q4_0": .q4_0
        default: nil
        }
        resamples = options.integer("resamples") ?? 1000
        seed = UInt64(options.integer("seed") ?? 12345)
    }

    /// Each shard scores its block of items, embedding only their texts (an embedding depends on
    /// its text alone, so the rows equal an unsharded run's), with idf weights from every
    /// reference of the dataset; the merge takes the means and the interval from all rows.
    public static let sharding = ShardMode.items

    public func evaluate(in context: EvaluationContext) async throws -> EvaluationResult {
        let corpus = try context.parallelCorpus(for: Self.id)
        guard case let .file(url)? = context.model else {
            throw EvaluatorError.invalidOption(name: "model", message: "bertscore needs a local encoder directory (config.json, *.safetensors, tokenizer)")
        }
        var model = try EncoderModel(directory: url)
        if let quantize { model = try model.quantized(quantize) }
        let scorer = try BERTScorer(model: model)
        var options = self.options
        if let rescalePath {
            options.baseline = try BERTScoreBaseline(contentsOf: URL(fileURLWithPath: rescalePath))
            options.baselineIsCustom = true
        }
        let progress = context.progress, id = context.evaluationID
        // References embedded by an earlier run of the same encoder (weights, quantization, build) are taken from the store.
        let cache = try context.embeddingCache.map { store in
            BERTScorer.ReferenceCache(cache: store, identity: [try SHA256.hex(modelAt: url), quantize?.description.lowercased() ?? "none",
                                                               EvaluationItemCache.buildIdentity].joined(separator: "|"))
        }
        let range = context.itemRange(of: corpus.ids.count)
        let sharded = range != 0..<corpus.ids.count
        if range.isEmpty, context.shard != nil {
            // A shard with no items (more shards than items): no rows, the signature any shard
            // gives, after the checks every shard makes.
            let layer = options.layer ?? scorer.defaultLayer
            guard (0...scorer.encoder.configuration.layers).contains(layer) else {
                throw EvaluatorError.invalidOption(name: "layer", message: "the encoder has layers 0…\(scorer.encoder.configuration.layers)")
            }
            _ = try options.baseline.map { try $0.baseline(layer: layer) }
            return try finish(items: [], signature: scorer.signature(layer: layer, options: options), in: context)
        }
        let result = try scorer.score(candidates: Array(corpus.hypotheses[range]), references: Array(corpus.references[range]), options: options,
                                      referenceCache: cache, idfReferences: sharded && options.idf ? corpus.references.flatMap { $0 } : nil) { done, total in
            progress.update(evaluation: id, completed: done, total: total, detail: "texts")
        }
        try context.checkCancellation()
        let items = zip(range, result.scores).map { i, s in
            ItemRow(id: corpus.ids[i], values: corpus.itemTexts(i).merging(
                ["precision": .number(s.precision), "recall": .number(s.recall), "f1": .number(s.f1)]) { _, score in score })
        }
        var out = try finish(items: items, signature: result.signature, in: context)
        if result.referencesFromCache > 0 {
            out.addRunNote("\(result.referencesFromCache) reference embedding\(result.referencesFromCache == 1 ? "" : "s") taken from the store")
        }
        return out
    }

    /// Mean precision, recall and F1 over the rows, in item order, and the F1 mean's bootstrap interval.
    public func merge(items: [ItemRow], signature: String, in context: EvaluationContext) throws -> EvaluationResult {
        guard !items.isEmpty else { throw MetricsError.emptyInput(what: "candidates") }
        let precision = try items.map { try $0.number("precision") }, recall = try items.map { try $0.number("recall") }
        let f1 = try items.map { try $0.number("f1") }
        let n = Double(items.count)
        var interval: Bootstrap.Interval?
        if resamples > 0 {
            interval = Bootstrap.meanInterval(f1, resamples: resamples, seed: seed)
        }
        return EvaluationResult(
            metrics: [
                MetricValue(name: "f1", value: f1.reduce(0, +) / n, ciLow: interval?.low, ciHigh: interval?.high, higherIsBetter: true),
                MetricValue(name: "precision", value: precision.reduce(0, +) / n, higherIsBetter: true),
                MetricValue(name: "recall", value: recall.reduce(0, +) / n, higherIsBetter: true),
            ],
            items: items, signature: signature)
    }
}
