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
    public static let optionsRowsIgnore: Set<String> = ["batch_tokens", "resamples", "seed"]
    public static let options: [OptionSpec] = [
        OptionSpec("layer", .integer(minimum: 0), default: nil, "hidden layer (default: bert_score's tuned layer for known models, else the last)"),
        OptionSpec("idf", .bool, default: .bool(false), "weight tokens by idf over the references"),
        OptionSpec("rescale", .string, default: nil, "baseline file (LAYER,P,R,F) to rescale with; see assay bertscore-baseline"),
        OptionSpec("exclude_special_from_matching", .bool, default: .bool(false), "leave [CLS]/[SEP] out of the similarity matrix (bert_score issue #180)"),
        OptionSpec("quantize", .choice(["none", "q8_0", "q4_0"]), default: .string("none"), "quantize the encoder's projections in memory first"),
        OptionSpec("batch_tokens", .integer(minimum: 1), default: .integer(8192), "tokens per encoder batch"),
        OptionSpec("resamples", .integer(minimum: 0, maximum: Bootstrap.maximumResamples), default: .integer(1000), "bootstrap resamples for the mean F1's 95 % interval (0: none)"),
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

    static let localOnly = "bertscore needs a local encoder directory (config.json, *.safetensors, tokenizer)"
    public static func refusedModel(_ model: ModelSpec, role: ModelRoles, options: OptionValues) -> String? {
        if case .endpoint = model { return localOnly }
        return nil
    }

    public func evaluate(in context: EvaluationContext) async throws -> EvaluationResult {
        let corpus = try context.parallelCorpus(for: Self.id)
        guard case let .file(url)? = context.model else {
            throw EvaluatorError.invalidOption(name: "model", message: Self.localOnly)
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
        let encoderHash = context.embeddingCache != nil || context.itemCache != nil ? try SHA256.hex(modelAt: url) : ""
        // References embedded by an earlier run of the same encoder (weights, quantization, build) are taken from the store.
        let cache = context.embeddingCache.map { store in
            BERTScorer.ReferenceCache(cache: store, identity: [encoderHash, quantize?.description.lowercased() ?? "none",
                                                               EvaluationItemCache.buildIdentity].joined(separator: "|"))
        }
        let range = context.itemRange(of: corpus.ids.count)
        // Rows an earlier run of the same evaluation kept (`--resume`): the key names the encoder,
        // its quantization, the baseline's bytes and, with idf, every reference of the dataset
        // (the weights), besides the options, the item's texts and the build (EvaluationItemCache).
        var kept: [Int: BERTScore.Score] = [:]
        var keys: [Int: String] = [:]
        if let itemCache = context.itemCache {
            let model = try scorer.rowIdentity(modelAt: url, weights: encoderHash, layer: options.layer ?? scorer.defaultLayer,
                                               quantization: quantize?.description.lowercased() ?? "none",
                                               extra: try rescalePath.map { [try SHA256.hex(fileAt: URL(fileURLWithPath: $0))] } ?? [],
                                               idfReferences: options.idf ? corpus.references : nil)
            let encoder = JSONEncoder()
            for i in range {
                // JSON: texts that hold separators cannot run into each other.
                keys[i] = itemCache.key(model: model, content: try encoder.encode([corpus.hypotheses[i]] + corpus.references[i]))
            }
            let rows = itemCache.rows(forKeys: range.map { keys[$0]! })
            for i in range {
                guard let row = rows[keys[i]!], let p = row.values["precision"]?.number, let r = row.values["recall"]?.number,
                      let f = row.values["f1"]?.number else { continue }
                kept[i] = BERTScore.Score(precision: p, recall: r, f1: f)
            }
            itemCache.taken(kept.count)
        }
        let pending = range.filter { kept[$0] == nil }
        let signature: String
        var fromStore = 0
        if pending.isEmpty {
            // A shard with no items (more shards than items), or every item resumed: the
            // signature any run gives, after the checks every run makes.
            let layer = options.layer ?? scorer.defaultLayer
            guard (0...scorer.encoder.configuration.layers).contains(layer) else {
                throw EvaluatorError.invalidOption(name: "layer", message: "the encoder has layers 0…\(scorer.encoder.configuration.layers)")
            }
            _ = try options.baseline.map { try $0.baseline(layer: layer) }
            if range.isEmpty && context.shard == nil { throw MetricsError.emptyInput(what: "candidates") }
            signature = scorer.signature(layer: layer, options: options)
        } else {
            // With a store, items are scored in blocks of about 16 encoder batches (~20 s of MiniLM
            // on two cores at the default batch size; 64 made a whole 5,200-pair WMT evaluation one
            // block) and each block's rows are kept as it finishes, so a killed run loses at most
            // the block in progress.
            let itemCache = context.itemCache
            let result = try scorer.score(candidates: pending.map { corpus.hypotheses[$0] }, references: pending.map { corpus.references[$0] },
                                          options: options, referenceCache: cache,
                                          idfReferences: options.idf ? corpus.references.flatMap { $0 } : nil,
                                          blockTokens: itemCache == nil ? nil : 16 * options.batchTokens, progress: { done, total in
                                              progress.update(evaluation: id, completed: done, total: total, detail: "texts")
                                          }) { block, scores in
                // A finished block is kept even when the run was interrupted meanwhile; then it stops.
                itemCache?.record(zip(block, scores).map { j, s in
                    (key: keys[pending[j]]!, row: ItemRow(id: corpus.ids[pending[j]],
                                                          values: ["precision": .number(s.precision), "recall": .number(s.recall), "f1": .number(s.f1)]))
                })
                try context.checkCancellation()
            }
            for (j, i) in pending.enumerated() { kept[i] = result.scores[j] }
            signature = result.signature
            fromStore = result.referencesFromCache
        }
        try context.checkCancellation()
        let items = range.map { i in
            let s = kept[i]!
            return ItemRow(id: corpus.ids[i], values: corpus.itemTexts(i).merging(
                ["precision": .number(s.precision), "recall": .number(s.recall), "f1": .number(s.f1)]) { _, score in score })
        }
        var out = try finish(items: items, signature: signature, in: context)
        if fromStore > 0 {
            out.addRunNote("\(fromStore) reference embedding\(fromStore == 1 ? "" : "s") taken from the store")
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

extension BERTScorer {
    /// What the kept rows (`--resume`) of an evaluation with this encoder depend on besides the
    /// item's texts and the build: the weights and tokenizer files, the directory's name (the
    /// default layer), the length texts are cut at, the layer used, the quantization, `extra`
    /// (bertscore: the baseline's bytes) and, with idf, every reference of the dataset (the weights).
    func rowIdentity(modelAt url: URL, weights: String, layer: Int, quantization: String, extra: [String] = [],
                     idfReferences: [[String]]?) throws -> String {
        var identity = [GenerationEvaluator.identity(ofModelAt: url, weights: weights) ?? weights, name, String(maxLength), String(layer), quantization]
        identity += extra
        if let idfReferences { identity.append(SHA256.hex(try JSONEncoder().encode(idfReferences))) }
        return identity.joined(separator: "|")
    }
}
