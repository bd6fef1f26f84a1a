import AssayCore
import AssayMetrics
import AssayModels
import AssayProcedures
import Foundation

/// Perplexity of a text under a model: `mode: chunked` = llama.cpp `llama-perplexity`,
/// `mode: rolling` = lm-evaluation-harness `loglikelihood_rolling` (see docs/engine.md). The model
/// is a local checkpoint (the in-process engine) or an endpoint whose server returns prompt
/// log-probabilities (vLLM; llama-cpp-python when the prompt begins with BOS).
public struct PerplexityEvaluator: Evaluator {
    public static let id = "perplexity"
    public static let summary = "Perplexity of a text: llama-perplexity's chunked or lm-eval's rolling definition (in-process, or a served model's prompt log-probabilities)"
    public static let options: [OptionSpec] = [
        OptionSpec("mode", .choice(["chunked", "rolling"]), default: .string("chunked"),
                   "chunked = llama-perplexity, rolling = lm-evaluation-harness loglikelihood_rolling per document"),
        OptionSpec("context", .integer(minimum: 4), default: .integer(512), "tokens per chunk (chunked) or per window (rolling, lm-eval max_length)"),
        OptionSpec("chunks", .integer(minimum: 0), default: .integer(0), "chunked: evaluate at most this many chunks (0: all)"),
        OptionSpec("split", .choice(DocumentSplit.names), default: .string("file"), "rolling: documents are the file, blank-line paragraphs, lines, or JSONL records"),
        OptionSpec("field", .string, default: .string("text"), "rolling with split: jsonl: the field holding the text"),
        OptionSpec("stride", .integer(minimum: 0), default: .integer(0), "rolling: tokens predicted per window after the first (0: context, as lm-eval)"),
        OptionSpec("prefix_token", .integer(minimum: 0), default: nil,
                   "rolling: the token id each document's first window starts from (lm-eval's custom_prefix_token_id). Default: the tokenizer's BOS, or EOS; a served model whose tokenizer adds no BOS needs it"),
        OptionSpec("numerics", .choice(["exact", "ggml"]), default: .string("exact"), "exact = f32 throughout; ggml = round activations and the KV cache as llama.cpp's CPU kernels do"),
        OptionSpec("cache_type", .choice(["f32", "f16"]), default: nil,
                   "KV cache storage: f32 or f16 (half the memory; exact numbers move by f16 rounding). Default: f16 with ggml numerics, else f32"),
        OptionSpec("token_texts", .bool, default: .bool(true),
                   "keep each scored token's text and NLL in the items (the HTML report shades them; about 18 bytes a token); false keeps per-chunk sums only"),
    ]
    public static let metrics: [MetricSpec] = [
        MetricSpec("perplexity", higherIsBetter: false, summary: "token perplexity exp(mean NLL) over the scored tokens, with llama-perplexity's ±"),
        MetricSpec("mean_nll", higherIsBetter: false, unit: "nats", summary: "mean negative log-likelihood"),
        MetricSpec("tokens_scored", higherIsBetter: true, summary: "tokens that were predicted"),
        MetricSpec("word_perplexity", higherIsBetter: false, summary: "rolling: exp(−Σ log-likelihood / Σ words), lm-eval's word_perplexity"),
        MetricSpec("byte_perplexity", higherIsBetter: false, summary: "rolling: exp(−Σ log-likelihood / Σ UTF-8 bytes)"),
        MetricSpec("bits_per_byte", higherIsBetter: false, unit: "bits", summary: "rolling: −Σ log-likelihood / Σ bytes / ln 2"),
    ]
    /// Word and byte counts belong to documents: chunked mode scores token windows of the whole
    /// text, so only the rolling mode has those metrics.
    public static func absentMetric(_ metric: String, options: OptionValues) -> String? {
        guard ["word_perplexity", "byte_perplexity", "bits_per_byte"].contains(metric), options.string("mode") != "rolling" else { return nil }
        return "'\(metric)' is measured in rolling mode only (chunked mode scores token windows, not documents' words and bytes); set mode: rolling"
    }
    public static let datasetKinds: [DatasetKind] = [.text]
    public static let modelRoles: ModelRoles = .model

    let context: Int
    let mode: PerplexityMode
    let numerics: LlamaModel.Numerics
    let cacheType: LlamaModel.CacheType?
    let tokenTexts: Bool

    public init(options: OptionValues) throws {
        context = options.integer("context") ?? 512
        numerics = LlamaModel.Numerics(rawValue: options.string("numerics") ?? "exact") ?? .exact
        cacheType = options.string("cache_type").flatMap(LlamaModel.CacheType.init(rawValue:))
        tokenTexts = options.bool("token_texts")
        if options.string("mode") == "rolling" {
            let stride = options.integer("stride") ?? 0
            guard stride <= context else { throw EvaluatorError.invalidOption(name: "stride", message: "must be at most the context (\(context))") }
            mode = .rolling(split: DocumentSplit(options.string("split") ?? "file", field: options.string("field") ?? "text") ?? .file,
                            stride: stride == 0 ? nil : stride, prefix: options.integer("prefix_token"))
        } else {
            guard options.integer("prefix_token") == nil else {
                throw EvaluatorError.invalidOption(name: "prefix_token", message: "applies to mode: rolling (chunked mode starts each chunk from BOS when the tokenizer adds one)")
            }
            mode = .chunked(maxChunks: options.integer("chunks") ?? 0)
        }
    }

    public func evaluate(in context: EvaluationContext) async throws -> EvaluationResult {
        guard case let .text(path)? = context.dataset else { throw EvaluatorError.missingDataset(evaluator: Self.id) }
        // Tokens a part scores: a chunk its second half but the last, a rolling document (after
        // its prefix token) every one.
        let expected: @Sendable (Int) -> Int
        if case .rolling = mode { expected = { $0 - 1 } } else { expected = { $0 - $0 / 2 - 1 } }
        let progress = context.progress, id = context.evaluationID
        let backend: any LanguageModelBackend, hash: String
        var retries: RetryLog?
        var identity: String?  // what names the weights in the item cache's keys
        switch context.model {
        case let .file(url)?:
            identity = try? SHA256.hex(modelAt: url)
            hash = identity.map { String($0.prefix(12)) } ?? "?"
            backend = try InProcessBackend(modelAt: url, numerics: numerics, cacheType: cacheType)
        case let .endpoint(url, name, keyVariable)?:
            // The server's own prompt log-probabilities (RemoteScoring); its probe runs first.
            let server = OpenAIServer(baseURL: url, model: name, apiKey: try ModelSpec.apiKey(variable: keyVariable))
            try await server.checkModel()
            (backend, hash, retries) = (OpenAIBackend(server: server), "served:\(name)", server.retries)
            identity = "served:\(name)@\(Redaction.scrub(url.absoluteString))"
        case nil:
            throw EvaluatorError.invalidOption(name: "model", message: "perplexity needs a model: a GGUF file, a Hugging Face directory or an endpoint")
        }
        let report = try await PerplexityRunner.run(model: backend, textAt: path, context: self.context, mode: mode, modelHash: hash,
                                                    select: context.itemRange(of:),
                                                    cache: identity.flatMap { Self.partCache(context.itemCache, model: $0, expected: expected) },
                                                    tokenTexts: tokenTexts && backend is InProcessBackend) { done, total in
            progress.update(evaluation: id, completed: done, total: total, detail: "tokens")
        }
        guard report.complete else { throw CancellationError() }
        let rolling = report.mode == "rolling"
        let items = report.parts.map { part in
            var values: [String: JSONValue] = [
                "tokens": .number(Double(part.accumulator.count)), "nll_sum": .number(part.accumulator.totalNLL),
                "nll_sq_sum": .number(part.accumulator.totalSquaredNLL), "perplexity": part.accumulator.perplexity.map(JSONValue.number) ?? .null,
            ]
            if let words = part.words, let bytes = part.bytes {
                values["words"] = .number(Double(words))
                values["bytes"] = .number(Double(bytes))
            }
            // Each scored token's text and NLL (to 1e-4 nats) for the report's shading.
            if let texts = part.tokenTexts, texts.count == part.nll.count {
                values["token_texts"] = .array(texts.map(JSONValue.string))
                values["token_nll"] = .array(part.nll.map { .number((Double($0) * 1e4).rounded() / 1e4) })
                if let text = part.context { values["context"] = .string(text) }
            }
            return ItemRow(id: (rolling ? "document-" : "chunk-") + String(part.index + 1), values: values)
        }
        var result = try finish(items: items, signature: report.signature, in: context)
        result.addNote(retries?.summary)
        return result
    }

    public static let sharding = ShardMode.items

    /// Scored chunks (documents) kept in the item cache by their tokens, for `--resume`;
    /// `expected` is how many tokens a part of these tokens scores (a row with another count is
    /// not taken).
    static func partCache(_ cache: EvaluationItemCache?, model: String, expected: @escaping @Sendable (Int) -> Int) -> ScoredPartCache? {
        guard let cache else { return nil }
        @Sendable func key(_ tokens: [Int]) -> String { cache.key(model: model, tokens: tokens) }
        return ScoredPartCache(
            lookup: { tokens in
                guard let row = cache.row(forKey: key(tokens)), let count = try? row.count("tokens"), count == expected(tokens.count),
                      let sum = try? row.finite("nll_sum"), let squares = try? row.finite("nll_sq_sum"),
                      let values = row.values["nll"]?.array, values.count == count else { return nil }
                let nll = values.compactMap { $0.number.map(Float.init) }
                // The sums must be those of the listed NLLs (each ≥ 0): a row edited by hand is
                // scored again, never merged in.
                guard nll.count == count, Self.consistent(nll: nll, sum: sum, squares: squares) else { return nil }
                cache.taken()
                return ScoredPart(accumulator: PerplexityAccumulator(count: count, sum: sum, sumOfSquares: squares), nll: nll)
            },
            record: { tokens, part in
                let a = part.accumulator
                cache.record(ItemRow(id: "part", values: [
                    "tokens": .number(Double(a.count)), "nll_sum": .number(a.totalNLL), "nll_sq_sum": .number(a.totalSquaredNLL),
                    // Each Float in its shortest form, which reads back to the same Float.
                    "nll": .array(part.nll.map { .number(Double(String($0)) ?? Double($0)) }),
                ]), forKey: key(tokens))
            })
    }

    /// Whether `sum` and `squares` are the sums of `nll` (each ≥ 0) and of their squares, to the
    /// rounding that storing each NLL as a Float leaves.
    package static func consistent(nll: [Float], sum: Double, squares: Double) -> Bool {
        guard nll.allSatisfy({ $0 >= -1e-4 }) else { return false }  // a server's log-probabilities may reach +1e-4 (RemoteScoring)
        let s = nll.reduce(0.0) { $0 + Double($1) }, q = nll.reduce(0.0) { $0 + Double($1) * Double($1) }
        return abs(s - sum) <= 1e-5 * (1 + abs(sum)) && abs(q - squares) <= 1e-5 * (1 + abs(squares))
    }

    /// Refuses NLL sums that no `count` scored tokens give: NLLs are ≥ 0, so is their sum, and
    /// (Σ x)² ≤ n·Σ x² (a shard file with `nll_sum: -1e6` had merged into a perplexity of 0).
    static func checkSums(_ row: ItemRow, count: Int, nll: Double, squares: Double) throws {
        guard nll.isFinite, squares.isFinite else { return }  // a broken model: the run's finite-number check names it
        let n = Double(count)
        guard nll >= -1e-4 * max(n, 1), squares >= 0, nll * nll <= n * squares * (1 + 1e-9) + 1e-9 else {
            throw row.malformed("its NLL sums (nll_sum \(nll), nll_sq_sum \(squares)) cannot come from \(count) scored tokens")
        }
    }

    /// The totals of the rows (one per chunk, or per document when rolling) added in order, as
    /// an unsharded run adds them.
    public func merge(items: [ItemRow], signature: String, in context: EvaluationContext) throws -> EvaluationResult {
        guard !items.isEmpty else { throw MetricsError.emptyInput(what: "chunks") }
        var total = PerplexityAccumulator()
        var words = 0, bytes = 0
        let kind: String
        if case .rolling = mode { kind = "document-" } else { kind = "chunk-" }
        for (index, row) in items.enumerated() {
            // Every shard's rows in order are the text's chunks (documents) in order.
            guard row.id == kind + String(index + 1) else { throw row.malformed("it is row \(index + 1), which should be '\(kind)\(index + 1)'") }
            // A NaN or infinite NLL (a broken model) reaches the run's finite-number check, which
            // names the model as the thing to look at.
            let nll = try row.number("nll_sum"), squares = try row.number("nll_sq_sum"), count = try row.count("tokens")
            if case .chunked = mode, count != ChunkedPerplexity.Result.scoredPerChunk(context: self.context) {
                throw row.malformed("it scores \(count) tokens; a chunk of \(self.context) scores \(ChunkedPerplexity.Result.scoredPerChunk(context: self.context))")
            }
            try Self.checkSums(row, count: count, nll: nll, squares: squares)
            total.add(PerplexityAccumulator(count: count, sum: nll, sumOfSquares: squares))
            if case .rolling = mode {
                words += try row.count("words")
                bytes += try row.count("bytes")
            }
        }
        var metrics = [
            MetricValue(name: "perplexity", value: total.perplexity, stderr: total.standardError, higherIsBetter: false),
            MetricValue(name: "mean_nll", value: total.meanNLL, unit: "nats", higherIsBetter: false),
            MetricValue(name: "tokens_scored", value: Double(total.count), higherIsBetter: true),
        ]
        if case .rolling = mode {
            let logLikelihood = -total.totalNLL
            metrics += [
                MetricValue(name: "word_perplexity", value: words > 0 ? exp(-logLikelihood / Double(words)) : nil, higherIsBetter: false),
                MetricValue(name: "byte_perplexity", value: bytes > 0 ? exp(-logLikelihood / Double(bytes)) : nil, higherIsBetter: false),
                MetricValue(name: "bits_per_byte", value: bytes > 0 ? -logLikelihood / Double(bytes) / M_LN2 : nil, unit: "bits", higherIsBetter: false),
            ]
        }
        return EvaluationResult(metrics: metrics, items: items, signature: signature)
    }
}
