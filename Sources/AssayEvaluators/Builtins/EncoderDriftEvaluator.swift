import AssayCore
import AssayMetrics
import AssayModels
import AssayProcedures
import AssayStats
import AssayTensor
import Foundation

/// What quantizing a BERT-family encoder (`model:`) to Q8_0 or Q4_0 does: the cosine similarity
/// of every token's hidden state (full vs quantized, at the BERTScore layer) over the dataset's
/// texts, and the change in BERTScore F1 per item with a paired bootstrap 95 % interval and a
/// paired approximate-randomization test (docs/drift.md).
public struct EncoderDriftEvaluator: Evaluator {
    public static let id = "encoder-drift"
    public static let summary = "Hidden-state cosine and BERTScore change of a BERT/RoBERTa encoder quantized to Q8_0/Q4_0, with a paired significance test"
    public static let options: [OptionSpec] = [
        OptionSpec("quantize", .choice(["q8_0", "q4_0"]), default: .string("q8_0"), "the quantized copy to compare with the full encoder"),
        OptionSpec("layer", .integer(minimum: 0), default: nil, "hidden layer (default: as bertscore)"),
        OptionSpec("idf", .bool, default: .bool(false), "BERTScore with idf weights"),
        OptionSpec("resamples", .integer(minimum: 1, maximum: Bootstrap.maximumResamples), default: .integer(1000), "paired bootstrap resamples and randomization trials"),
        OptionSpec("seed", .integer(minimum: 0), default: .integer(12345), "seed of both"),
        OptionSpec("batch_tokens", .integer(minimum: 1), default: .integer(8192), "tokens per encoder batch"),
    ]
    /// Options that change no item row (the kept rows of `--resume` stay valid across them).
    public static let optionsRowsIgnore: Set<String> = ["batch_tokens", "resamples", "seed"]
    public static let metrics: [MetricSpec] = [
        MetricSpec("cosine_mean", higherIsBetter: true, summary: "mean cosine between each token's full and quantized hidden state"),
        MetricSpec("cosine_p1", higherIsBetter: true, summary: "1st percentile of the token cosines"),
        MetricSpec("cosine_min", higherIsBetter: true, summary: "smallest token cosine"),
        MetricSpec("f1_delta", higherIsBetter: true, summary: "mean BERTScore F1 change (quantized − full), with a paired bootstrap 95 % interval"),
        MetricSpec("f1_delta_p", higherIsBetter: true, summary: "paired approximate-randomization p-value of the F1 change"),
        MetricSpec("f1_full", higherIsBetter: true, summary: "mean BERTScore F1 with the full encoder"),
        MetricSpec("f1_quantized", higherIsBetter: true, summary: "mean BERTScore F1 with the quantized encoder"),
    ]
    public static let datasetKinds: [DatasetKind] = [.parallel, .jsonl]
    public static let modelRoles: ModelRoles = .model

    let type: GGMLType, layer: Int?, idf: Bool, resamples: Int, seed: UInt64, batchTokens: Int

    public init(options: OptionValues) throws {
        type = options.string("quantize") == "q4_0" ? .q4_0 : .q8_0
        layer = options.integer("layer")
        idf = options.bool("idf")
        resamples = options.integer("resamples") ?? 1000
        seed = UInt64(options.integer("seed") ?? 12345)
        batchTokens = options.integer("batch_tokens") ?? 8192
    }

    /// Each shard takes its block of items: both encoders embed only those items' texts (an
    /// embedding depends on its text alone) and each row carries the token cosines of the texts
    /// that first appear in that item, so the merge sees every distinct text's tokens once, as an
    /// unsharded run does; idf weights come from every reference of the dataset.
    public static let sharding = ShardMode.items

    static let localOnly = "encoder-drift needs a local encoder directory"
    public static func refusedModel(_ model: ModelSpec, role: ModelRoles, options: OptionValues) -> String? {
        if case .endpoint = model { return localOnly }
        return nil
    }

    public func evaluate(in context: EvaluationContext) async throws -> EvaluationResult {
        let corpus = try context.parallelCorpus(for: Self.id)
        guard case let .file(url)? = context.model else {
            throw EvaluatorError.invalidOption(name: "model", message: Self.localOnly)
        }
        let model = try EncoderModel(directory: url)
        let full = try BERTScorer(model: model)
        let layer = self.layer ?? full.defaultLayer
        guard (0...full.encoder.configuration.layers).contains(layer) else {
            throw EvaluatorError.invalidOption(name: "layer", message: "the encoder has layers 0…\(full.encoder.configuration.layers)")
        }
        // Each distinct text belongs to the first item that holds it (as hypothesis or reference).
        var owner: [String: Int] = [:]
        for i in corpus.ids.indices {
            for text in [corpus.hypotheses[i]] + corpus.references[i] where owner[text] == nil { owner[text] = i }
        }
        let tokens = owner.keys.reduce(0) { $0 + full.tokens($1).count }
        let options = BERTScorer.Options(layer: layer, idf: idf)
        let signature = Signature([("bertscore", full.signature(layer: layer, options: options)), ("vs", type.description.lowercased()),
                                   ("tokens", String(tokens)), ("bs", String(resamples)), ("rs", String(seed))]).description
        let range = context.itemRange(of: corpus.ids.count)
        guard !range.isEmpty else { return try finish(items: [], signature: signature, in: context) }
        // Rows an earlier run of the same evaluation kept (`--resume`): the key names the encoder
        // (weights, tokenizer files, name, maximum length), the layer, the quantization and, with
        // idf, every reference of the dataset, besides the item's texts, which of them the item
        // owns (their token cosines are in its row) and the build (EvaluationItemCache).
        var kept: [Int: ItemRow] = [:], keys: [Int: String] = [:]
        let itemCache = context.itemCache
        if let itemCache {
            let model = try full.rowIdentity(modelAt: url, weights: try SHA256.hex(modelAt: url), layer: layer,
                                             quantization: type.description.lowercased(), idfReferences: idf ? corpus.references : nil)
            let encoder = JSONEncoder()
            for i in range {
                let texts = [corpus.hypotheses[i]] + corpus.references[i]
                keys[i] = itemCache.key(model: model, content: try encoder.encode([texts, texts.map { owner[$0] == i ? "owned" : "" }]))
            }
            let rows = itemCache.rows(forKeys: range.map { keys[$0]! })
            // (Items with the same texts share a key — two systems' identical outputs — and take its row under their own id.)
            for i in range { kept[i] = rows[keys[i]!].map { ItemRow(id: corpus.ids[i], values: $0.values) } }
            itemCache.taken(kept.count)
        }
        let pending = range.filter { kept[$0] == nil }
        if !pending.isEmpty {
            let quantized = try BERTScorer(model: try model.quantized(type))
            // With a store, items go in blocks whose new texts come to about 16 encoder batches, and
            // each block's rows are kept as it finishes, so a killed run loses at most that block.
            let (blocks, total) = BERTScorer.blocks(of: pending, texts: { [corpus.hypotheses[$0]] + corpus.references[$0] },
                                                    blockTokens: itemCache == nil ? nil : 16 * batchTokens)
            let progress = context.progress, id = context.evaluationID
            let idfReferences = idf ? corpus.references.flatMap { $0 } : nil
            var a: [String: [Int: BERTScore.Embedding]] = [:], b: [String: [Int: BERTScore.Embedding]] = [:]
            var seen = Set<String>()
            for block in blocks {
                var fresh = Set<String>()
                let texts = block.flatMap { [corpus.hypotheses[$0]] + corpus.references[$0] }.filter { a[$0] == nil && fresh.insert($0).inserted }
                let done = a.count
                a.merge(try full.embed(texts, layers: [layer], batchTokens: batchTokens) { finished, _ in
                    progress.update(evaluation: id, completed: done + finished, total: 2 * total, detail: "texts")
                }) { old, _ in old }
                try context.checkCancellation()
                b.merge(try quantized.embed(texts, layers: [layer], batchTokens: batchTokens) { finished, _ in
                    progress.update(evaluation: id, completed: total + done + finished, total: 2 * total, detail: "texts")
                }) { old, _ in old }
                try context.checkCancellation()
                let candidates = block.map { corpus.hypotheses[$0] }, references = block.map { corpus.references[$0] }
                let fullScores = try full.score(candidates: candidates, references: references, embeddings: a, layer: layer, options: options,
                                                idfReferences: idfReferences)
                let quantizedScores = try quantized.score(candidates: candidates, references: references, embeddings: b, layer: layer,
                                                          options: options, idfReferences: idfReferences)
                var rows: [(key: String, row: ItemRow)] = []
                for (i, pair) in zip(block, zip(fullScores.scores, quantizedScores.scores)) {
                    // The cosine of each token's full and quantized hidden state (unit vectors: their dot product).
                    var cosines: [JSONValue] = []
                    for text in [corpus.hypotheses[i]] + corpus.references[i] where owner[text] == i && seen.insert(text).inserted {
                        let x = a[text]![layer]!, y = b[text]![layer]!
                        for t in 0..<x.tokens.count {
                            var dot: Float = 0
                            for j in 0..<x.dimension { dot += x.vectors[t * x.dimension + j] * y.vectors[t * x.dimension + j] }
                            cosines.append(dot.isFinite ? .number(Double(dot)) : .null)  // JSON has no NaN: null, read back as NaN
                        }
                    }
                    let row = ItemRow(id: corpus.ids[i], values: ["f1_full": .number(pair.0.f1), "f1_quantized": .number(pair.1.f1),
                                                                  "f1_delta": .number(pair.1.f1 - pair.0.f1), "token_cosines": .array(cosines)])
                    kept[i] = row
                    if let key = keys[i] { rows.append((key: key, row: row)) }
                }
                // A finished block is kept even when the run was interrupted meanwhile; then it stops.
                itemCache?.record(rows)
                try context.checkCancellation()
            }
        }
        let items = range.map { kept[$0]! }
        return try finish(items: items, signature: signature, in: context)
    }

    /// The cosine statistics over every row's token cosines, and the paired comparison of the rows' F1.
    public func merge(items: [ItemRow], signature: String, in context: EvaluationContext) throws -> EvaluationResult {
        guard !items.isEmpty else { throw MetricsError.emptyInput(what: "candidates") }
        // A token whose cosine is not finite (a NaN hidden state) makes the cosine statistics NaN, which the report flags.
        let all = try items.flatMap { try $0.numbers("token_cosines") }
        let cosines = all.allSatisfy(\.isFinite) ? all.sorted() : [.nan]
        let comparison = PairedComparison.compare(reference: try items.map { try $0.number("f1_full") },
                                                  candidate: try items.map { try $0.number("f1_quantized") },
                                                  higherIsBetter: true, resamples: resamples, trials: resamples, seed: seed)
        let metrics = [
            MetricValue(name: "cosine_mean", value: cosines.reduce(0, +) / Double(max(1, cosines.count)), higherIsBetter: true),
            MetricValue(name: "cosine_p1", value: cosines.isEmpty ? nil : cosines[Int(Double(cosines.count - 1) * 0.01)], higherIsBetter: true),
            MetricValue(name: "cosine_min", value: cosines.first, higherIsBetter: true),
            MetricValue(name: "f1_delta", value: comparison.delta, ciLow: comparison.deltaLow, ciHigh: comparison.deltaHigh, higherIsBetter: true,
                        note: comparison.verdict.rawValue),
            MetricValue(name: "f1_delta_p", value: comparison.pValue, higherIsBetter: true),
            MetricValue(name: "f1_full", value: comparison.referenceMean, higherIsBetter: true),
            MetricValue(name: "f1_quantized", value: comparison.candidateMean, higherIsBetter: true),
        ]
        return EvaluationResult(metrics: metrics, items: items, signature: signature)
    }
}
