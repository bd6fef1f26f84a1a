import AssayCheckpoint
import AssayCore
import AssayMetrics
import AssayModels
import AssayProcedures
import AssayTensor
import Foundation

/// Quantization drift of the evaluation's `model:` (the candidate) against its `reference:` on a
/// text, as `assay drift` computes it (docs/drift.md). With `quantize:` the candidate is quantized
/// in memory first — `model:` and `reference:` may then name the same file (what-if quantization).
/// Either model may be served (an endpoint): servers return the top k log-probabilities of each
/// position only, so the KLD is then a lower bound from the top k (`top_k`, said in the signature)
/// and `outside_top_k` reports the probability it cannot see.
public struct QuantDriftEvaluator: Evaluator {
    public static let id = "quant-drift"
    public static let summary = "KL divergence, top-token agreement, Δp and perplexity ratio of a candidate model against a reference (llama-perplexity --kl-divergence)"
    public static let options: [OptionSpec] = [
        OptionSpec("context", .integer(minimum: 4), default: .integer(512), "tokens per chunk (llama-perplexity -c)"),
        OptionSpec("chunks", .integer(minimum: 0), default: .integer(0), "evaluate at most this many chunks (0: all)"),
        OptionSpec("quantize", .choice(["none"] + Quantizer.supportedTypes.map { $0.description.lowercased() }), default: .string("none"),
                   "quantize the candidate in memory first (what-if quantization)"),
        OptionSpec("numerics", .choice(["exact", "ggml"]), default: .string("exact"), "exact = f32; ggml = round activations as llama.cpp's CPU kernels do"),
        OptionSpec("cache_type", .choice(["f32", "f16"]), default: nil,
                   "KV cache storage of both models: f32 or f16 (half the memory; exact numbers move by f16 rounding). Default: f16 with ggml numerics, else f32"),
        OptionSpec("top_k", .integer(minimum: 0), default: .integer(0),
                   "compare the top k log-probabilities of each position only (the KLD is then a lower bound); 0: the whole vocabulary, or 20 when a model is served (vLLM's --max-logprobs default)"),
        OptionSpec("throughput_reference", .string, default: nil, "id of an earlier throughput evaluation of the reference (for the speed-up)"),
        OptionSpec("throughput_candidate", .string, default: nil, "id of an earlier throughput evaluation of the candidate (for the speed-up)"),
    ]
    public static let metrics: [MetricSpec] = [
        MetricSpec("mean_kld", higherIsBetter: false, summary: "mean KL(reference ‖ candidate) per token, with stderr"),
        MetricSpec("kld_p99", higherIsBetter: false, summary: "99th percentile of the per-token KLD"),
        MetricSpec("kld_max", higherIsBetter: false, summary: "largest per-token KLD"),
        MetricSpec("same_top_p", higherIsBetter: true, summary: "share of positions where both models' top token agrees, with stderr"),
        MetricSpec("rms_dp", higherIsBetter: false, summary: "RMS of Δp = p(candidate) − p(reference) of the correct token"),
        MetricSpec("ppl_ratio", higherIsBetter: false, summary: "PPL(candidate)/PPL(reference), with stderr from the covariance and a 95 % interval exp(ln ratio ± 1.96 stderr); `judge: interval` gates it on that"),
        MetricSpec("ln_ppl_ratio", higherIsBetter: false, summary: "mean ln(PPL(candidate)/PPL(reference)), with stderr and a 95 % interval ± 1.96 stderr"),
        MetricSpec("ppl_base", higherIsBetter: false, summary: "the reference's perplexity on the scored tokens"),
        MetricSpec("ppl_candidate", higherIsBetter: false, summary: "the candidate's perplexity on the same tokens"),
        MetricSpec("cor_ln_ppl", higherIsBetter: true, summary: "correlation of the two models' per-token log-probabilities"),
        MetricSpec("outside_top_k", higherIsBetter: false,
                   summary: "top-k drift only: the mean probability the reference puts outside the tokens both top-k lists name, which the KLD bound cannot see"),
        MetricSpec("size_ratio", higherIsBetter: false, summary: "candidate bytes / reference bytes (GGUF files; an in-memory quantization counts the bytes its file would have)"),
        MetricSpec("pp_speedup", higherIsBetter: true, unit: "×", judgedOnInterval: true,
                   summary: "candidate / reference prompt-processing tokens/s, from the throughput evaluations named in the options; 95 % interval from both means' stderr on the log scale; gates judge the interval"),
        MetricSpec("tg_speedup", higherIsBetter: true, unit: "×", judgedOnInterval: true, summary: "candidate / reference generation tokens/s, likewise"),
    ]
    /// The speed-ups divide two earlier throughput evaluations' tokens/s, named by two options.
    public static func absentMetric(_ metric: String, options: OptionValues) -> String? {
        guard ["pp_speedup", "tg_speedup"].contains(metric), options.string("throughput_reference") == nil || options.string("throughput_candidate") == nil else {
            return nil
        }
        return "\(metric) divides two throughput evaluations' tokens/s: name them with throughput_reference and throughput_candidate"
    }

    /// A speed-up has no value when a named throughput evaluation runs no such test, or the two run
    /// different ones (what ``speedup(_:name:_:)`` finds at run time, said before it).
    public static func absentMetric(_ metric: String, options: OptionValues,
                                    reading earlier: (String) -> (evaluator: any Evaluator.Type, options: OptionValues)?) -> String? {
        guard ["pp_speedup", "tg_speedup"].contains(metric), let a = options.string("throughput_reference"), let b = options.string("throughput_candidate"),
              let reference = earlier(a), let candidate = earlier(b) else { return nil }
        let measured = metric == "pp_speedup" ? "pp_tokens_per_second" : "tg_tokens_per_second"
        for (id, evaluation) in [(a, reference), (b, candidate)] {
            if let reason = evaluation.evaluator.absentMetric(measured, options: evaluation.options) { return "'\(id)' gives no \(measured): \(reason)" }
        }
        let settings = ["prompt", "generate", "threads"]
        let differing = settings.filter { reference.options.values[$0] != candidate.options.values[$0] }
        guard differing.isEmpty else {
            func shown(_ o: OptionValues) -> String { differing.map { "\($0): \(o.values[$0].map { "\($0)" } ?? "none")" }.joined(separator: ", ") }
            return "'\(a)' and '\(b)' run different tests (\(shown(reference.options)) against \(shown(candidate.options))); give both the same prompt, generate and threads"
        }
        return nil
    }
    public static let datasetKinds: [DatasetKind] = [.text]
    public static let modelRoles: ModelRoles = [.model, .reference]

    let context: Int, chunks: Int, quantize: GGMLType?, numerics: LlamaModel.Numerics, topK: Int
    let cacheType: LlamaModel.CacheType?
    let throughputReference: String?, throughputCandidate: String?

    public static func dependencies(_ options: OptionValues) -> [String] {
        ["throughput_reference", "throughput_candidate"].compactMap { options.string($0) }
    }

    public init(options: OptionValues) throws {
        context = options.integer("context") ?? 512
        chunks = options.integer("chunks") ?? 0
        let name = options.string("quantize") ?? "none"
        quantize = Quantizer.supportedTypes.first { $0.description.lowercased() == name }
        numerics = LlamaModel.Numerics(rawValue: options.string("numerics") ?? "exact") ?? .exact
        cacheType = options.string("cache_type").flatMap(LlamaModel.CacheType.init(rawValue:))
        topK = options.integer("top_k") ?? 0
        throughputReference = options.string("throughput_reference")
        throughputCandidate = options.string("throughput_candidate")
        guard (throughputReference == nil) == (throughputCandidate == nil) else {
            throw EvaluatorError.invalidOption(name: "throughput_candidate", message: "name both throughput_reference and throughput_candidate, or neither")
        }
        guard throughputReference == nil || throughputReference != throughputCandidate else {
            throw EvaluatorError.invalidOption(name: "throughput_candidate", message: "names the same evaluation as throughput_reference; a speed-up divides two models' tokens/s")
        }
    }

    /// Bytes of a GGUF file, or of the file `quantization` would write from it.
    static func ggufBytes(_ url: URL, quantization: GGMLType?) -> Double? {
        guard url.pathExtension == "gguf", let file = try? GGUFFile(contentsOf: url) else { return nil }
        guard let quantization else { return (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int).map(Double.init) }
        return Double(GGUFQuantization(type: quantization).plan(file).reduce(0) { $0 + ($1.type.byteCount(elements: $1.tensor.elementCount) ?? 0) })
    }

    /// candidate / reference of `metric` in two earlier throughput evaluations, with a 95 % interval
    /// exp(ln r ± 1.96·√((se_a/a)² + (se_b/b)²)) from the two means' standard errors (the delta
    /// method on the log scale: a ratio of speeds is skewed, its logarithm is not).
    func speedup(_ metric: String, name: String, _ context: EvaluationContext) -> MetricValue? {
        guard let a = throughputReference, let b = throughputCandidate else { return nil }
        // No value, and why, when the two measurements are not of the same test: a pp16 against a
        // pp64 had given a speed-up and passed its gate.
        func absent(_ why: String) -> MetricValue { MetricValue(name: name, value: nil, unit: "×", higherIsBetter: true, note: why) }
        guard let referenceResult = context.earlierResults[a], let candidateResult = context.earlierResults[b] else {
            return absent("throughput evaluation '\(context.earlierResults[a] == nil ? a : b)' has no result")
        }
        guard let reference = referenceResult.metric(metric), let candidate = candidateResult.metric(metric) else {
            return absent("'\(referenceResult.metric(metric) == nil ? a : b)' gives no \(metric) (a throughput evaluation with a \(metric.hasPrefix("pp") ? "prompt" : "generate") test?)")
        }
        func settings(_ result: EvaluationResult) -> [Substring] {
            result.signature.split(separator: "|").filter { $0.hasPrefix("tests:") || $0.hasPrefix("threads:") }
        }
        guard reference.note == candidate.note, settings(referenceResult) == settings(candidateResult) else {
            return absent("'\(a)' and '\(b)' measured different tests (\(settings(referenceResult).joined(separator: " ")) against \(settings(candidateResult).joined(separator: " "))); give both the same prompt, generate and threads")
        }
        guard let r = reference.value, let c = candidate.value, r > 0, c > 0 else { return absent("a tokens/s of '\(a)' or '\(b)' is not positive") }
        let ratio = c / r
        var value = MetricValue(name: name, value: ratio, unit: "×", higherIsBetter: true)
        if let sr = reference.stderr, let sc = candidate.stderr {
            let logError = ((sr / r) * (sr / r) + (sc / c) * (sc / c)).squareRoot()
            value.stderr = ratio * logError
            value.ciLow = ratio * exp(-1.96 * logError)
            value.ciHigh = ratio * exp(1.96 * logError)
        }
        return value
    }

    public static func refusedModel(_ model: ModelSpec, role: ModelRoles, options: OptionValues) -> String? {
        GenerationEvaluator.refusedModel(model, role: role, options: options)
    }

    public func evaluate(in context: EvaluationContext) async throws -> EvaluationResult {
        guard case let .text(text)? = context.dataset else { throw EvaluatorError.missingDataset(evaluator: Self.id) }
        guard let candidateSpec = context.model, let referenceSpec = context.reference else {
            throw EvaluatorError.invalidOption(name: "model", message: "quant-drift needs model: (the candidate) and reference:")
        }
        guard case let .file(candidate) = candidateSpec, case let .file(reference) = referenceSpec, topK == 0 else {
            return try await evaluateTopK(candidate: candidateSpec, reference: referenceSpec, text: text, in: context)
        }
        let sameFile = candidate.standardizedFileURL == reference.standardizedFileURL
        guard !sameFile || quantize != nil else {
            throw EvaluatorError.invalidOption(name: "quantize", message: "model: and reference: are the same file; set quantize: to compare it with a quantized copy")
        }
        let base = try InProcessBackend(modelAt: reference, numerics: numerics, cacheType: cacheType)
        try base.model.checkContext(self.context, path: reference.path)  // before the candidate is loaded and quantized
        // Quantized at its first chunk: an empty shard, or a resumed run with every chunk kept, skips it.
        let other = try base.candidate(file: sameFile ? nil : candidate, quantization: quantize, numerics: numerics, cacheType: cacheType,
                                       lazily: true)
        let progress = context.progress, id = context.evaluationID
        let cache = Self.chunkCache(context.itemCache, identity: try context.itemCache.map { _ in
            try [SHA256.hex(modelAt: reference), sameFile ? "same" : SHA256.hex(modelAt: candidate)].joined(separator: "|")
        })
        let (result, signature) = try await DriftRunner.run(reference: base, candidate: other, textAt: text, context: self.context,
                                                            maxChunks: chunks, select: context.itemRange(of:), cache: cache) { done, total in
            progress.update(evaluation: id, completed: done, total: total, detail: "tokens")
        }
        guard result.complete else { throw CancellationError() }
        let referenceBytes = Self.ggufBytes(reference, quantization: nil)
        let candidateBytes = sameFile ? Self.ggufBytes(reference, quantization: quantize) : Self.ggufBytes(candidate, quantization: quantize)
        let run = RunFacts(title: "\(candidate.lastPathComponent)\(quantize.map { " → " + $0.description } ?? "") vs \(reference.lastPathComponent)",
                           sizeRatio: referenceBytes.flatMap { r in candidateBytes.map { $0 / r } }, topK: nil)
        return try finish(items: Self.rows(result, run), signature: signature, in: context)
    }

    public static let sharding = ShardMode.items

    /// What every chunk's row repeats so that a merge needs neither model: the chart's title,
    /// the size ratio (from the GGUF headers) and k for top-k drift.
    struct RunFacts: Equatable {
        var title: String
        var sizeRatio: Double?
        var topK: Int?
    }

    /// The row key holding a chunk's sufficient statistics (``DriftAccumulator/sums``, each
    /// token's KLD and Δp, and the ``RunFacts``): in the items file, not in the reports' tables.
    public static let statisticsKey = "drift_stats"  // one of ItemRow.mergeOnlyKeys

    /// One row per chunk evaluated: the per-chunk table's values and the statistics a merge reads.
    static func rows(_ result: DriftRunner.Result, _ run: RunFacts) -> [ItemRow] {
        result.parts.compactMap { index, part in
            guard let c = part.summary else { return nil }
            var statistics = Self.statistics(part)
            statistics["title"] = .string(run.title)
            statistics["size_ratio"] = run.sizeRatio.map(JSONValue.number) ?? .null
            statistics["top_k"] = run.topK.map { .number(Double($0)) } ?? .null
            return ItemRow(id: "chunk-\(index + 1)", values: [
                "ppl_candidate": .number(c.pplCandidate), "ln_ppl_ratio": .number(c.lnPPLRatio), "mean_kld": .number(c.meanKLD),
                "rms_dp": .number(c.rmsDeltaP), "same_top_p": .number(c.sameTop), Self.statisticsKey: .object(statistics),
            ])
        }
    }

    /// A chunk's accumulator as JSON: its sums, each token's KLD and Δp. Each Float in its shortest
    /// form, which reads back to the same Float; a value that is not finite as null (JSON has no
    /// infinity), which ``accumulator(_:)`` reads as NaN — from a shard's file, the store and
    /// memory alike, so that sharded, resumed and plain runs agree there too.
    static func statistics(_ part: DriftAccumulator) -> [String: JSONValue] {
        func floats(_ values: [Float]) -> JSONValue {
            .array(values.map { $0.isFinite ? .number(Double(String($0)) ?? Double($0)) : .null })
        }
        return ["sums": .object(part.sums.mapValues { $0.isFinite ? .number($0) : .null }), "kld": floats(part.kldValues), "dp": floats(part.pDiffValues)]
    }

    /// The accumulator ``statistics(_:)`` wrote, or nil when they do not describe one chunk.
    static func accumulator(_ statistics: [String: JSONValue]) -> DriftAccumulator? {
        guard case let .object(sums)? = statistics["sums"], let kld = statistics["kld"]?.array, let dp = statistics["dp"]?.array else { return nil }
        func numbers(_ values: [JSONValue]) -> [Float] { values.compactMap { $0 == .null ? .nan : $0.number.map(Float.init) } }
        return DriftAccumulator(sums: sums.compactMapValues { $0 == .null ? .nan : $0.number }, kld: numbers(kld), deltaP: numbers(dp))
    }

    /// Chunks kept in the store as they finish, by their tokens and both models (`identity`), for
    /// `assay run --resume`.
    static func chunkCache(_ cache: EvaluationItemCache?, identity: String?) -> PartCache<DriftAccumulator>? {
        guard let cache, let identity else { return nil }
        return PartCache(
            lookup: { tokens in
                guard let row = cache.row(forKey: cache.key(model: identity, tokens: tokens)),
                      case let .object(statistics)? = row.values[Self.statisticsKey], let part = Self.accumulator(statistics),
                      part.count == tokens.count - 1 - tokens.count / 2 else { return nil }
                cache.taken()
                return part
            },
            record: { tokens, part in
                cache.record(ItemRow(id: "chunk", values: [Self.statisticsKey: .object(Self.statistics(part))]),
                             forKey: cache.key(model: identity, tokens: tokens))
            })
    }

    /// The chunks' rows (every shard's, in order) merged as an unsharded run merges its chunks:
    /// the metrics, the per-chunk table and the KLD histogram.
    public func merge(items: [ItemRow], signature: String, in context: EvaluationContext) throws -> EvaluationResult {
        guard !items.isEmpty else { throw MetricsError.emptyInput(what: "chunks") }
        var total = DriftAccumulator()
        var run: RunFacts?
        for (index, row) in items.enumerated() {
            // Every shard's rows in order are the text's chunks in order: chunk-1, chunk-2, …
            guard row.id == "chunk-\(index + 1)" else { throw row.malformed("it is row \(index + 1) of the chunks, which should be 'chunk-\(index + 1)'") }
            guard case let .object(statistics)? = row.values[Self.statisticsKey], let title = statistics["title"]?.string else {
                throw row.malformed("'\(Self.statisticsKey)' must hold the chunk's sums, kld and dp values and the title")
            }
            guard let part = Self.accumulator(statistics) else {
                throw row.malformed("'\(Self.statisticsKey)' does not describe one chunk (a sum missing, or counts that disagree)")
            }
            guard [nil, .null].contains(statistics["top_k"]) || statistics["top_k"]?.number.flatMap({ Int(exactly: $0) }).map({ $0 >= 1 }) == true,
                  [nil, .null].contains(statistics["size_ratio"]) || statistics["size_ratio"]?.number.map({ $0.isFinite && $0 > 0 }) == true else {
                throw row.malformed("'\(Self.statisticsKey)' holds a top_k that is not a count or a size_ratio that is not a positive number")
            }
            let facts = RunFacts(title: title, sizeRatio: statistics["size_ratio"]?.number, topK: statistics["top_k"]?.number.flatMap { Int(exactly: $0) })
            guard run == nil || run == facts else { throw row.malformed("its title, size ratio or k differs from the first chunk's") }
            run = facts
            total.merge(part)
        }
        guard let run, let s = total.summary else { throw MetricsError.emptyInput(what: "scored tokens") }
        var extra = [MetricValue]()
        if run.topK != nil { extra.append(MetricValue(name: "outside_top_k", value: s.outsideTopK, higherIsBetter: false)) }
        extra.append(MetricValue(name: "size_ratio", value: run.sizeRatio, higherIsBetter: false, note: run.sizeRatio == nil ? "GGUF files only" : nil))
        extra += [speedup("pp_tokens_per_second", name: "pp_speedup", context), speedup("tg_tokens_per_second", name: "tg_speedup", context)].compactMap { $0 }
        let chart = Chart.kldHistogram(title: "KL divergence per token: " + run.title, kld: total.kldValues, mean: s.meanKLD, p99: s.kldPercentiles[0.99] ?? 0)
        var out = EvaluationResult(metrics: Self.metrics(s) + extra, items: items, signature: signature,
                                   artifacts: [Artifact(name: "kld.svg", title: "KL divergence distribution", chart: chart)])
        out.itemsInReport = true   // the per-chunk table
        if let k = run.topK {
            out.metrics[0].note = "a lower bound from the top \(k) log-probabilities, as are kld_p99 and kld_max; outside_top_k is the probability it cannot see"
        }
        return out
    }

    /// The metrics every drift reports, from `s`.
    static func metrics(_ s: DriftSummary) -> [MetricValue] {
        [
            MetricValue(name: "mean_kld", value: s.meanKLD, stderr: s.meanKLDStderr, higherIsBetter: false),
            MetricValue(name: "kld_p99", value: s.kldPercentiles[0.99], higherIsBetter: false),
            MetricValue(name: "kld_max", value: s.kldMax, higherIsBetter: false),
            MetricValue(name: "same_top_p", value: s.sameTop, stderr: s.sameTopStderr, higherIsBetter: true),
            MetricValue(name: "rms_dp", value: s.rmsDeltaP, stderr: s.rmsDeltaPStderr, higherIsBetter: false),
            MetricValue(name: "ppl_ratio", value: s.pplRatio, stderr: s.pplRatioStderr, ciLow: exp(s.lnPPLRatio - 1.96 * s.lnPPLRatioStderr),
                        ciHigh: exp(s.lnPPLRatio + 1.96 * s.lnPPLRatioStderr), higherIsBetter: false),
            MetricValue(name: "ln_ppl_ratio", value: s.lnPPLRatio, stderr: s.lnPPLRatioStderr, ciLow: s.lnPPLRatio - 1.96 * s.lnPPLRatioStderr,
                        ciHigh: s.lnPPLRatio + 1.96 * s.lnPPLRatioStderr, higherIsBetter: false),
            MetricValue(name: "ppl_base", value: s.pplBase, stderr: s.pplBaseStderr, higherIsBetter: false),
            MetricValue(name: "ppl_candidate", value: s.pplCandidate, stderr: s.pplCandidateStderr, higherIsBetter: false),
            MetricValue(name: "cor_ln_ppl", value: s.corLnPPL, higherIsBetter: true),
        ]
    }

    /// Drift from top-k log-probabilities: a served model on either side, or `top_k` set.
    func evaluateTopK(candidate: ModelSpec, reference: ModelSpec, text: URL, in context: EvaluationContext) async throws -> EvaluationResult {
        let served = [candidate, reference].contains { if case .endpoint = $0 { return true } else { return false } }
        if served, quantize != nil {
            throw EvaluatorError.invalidOption(name: "quantize", message: GenerationEvaluator.servedNotQuantized)
        }
        if quantize == nil, candidate == reference {
            throw EvaluatorError.invalidOption(name: "quantize", message: "model: and reference: are the same model; set quantize: to compare a local file with a quantized copy")
        }
        // Both keys first: an unset variable fails before either server hears a request.
        func key(_ spec: ModelSpec) throws -> String? {
            if case let .endpoint(_, _, variable) = spec { return try ModelSpec.apiKey(variable: variable) }
            return nil
        }
        let keys = (reference: try key(reference), candidate: try key(candidate))
        func backend(_ spec: ModelSpec, key: String?, quantized: GGMLType?) async throws -> (any LanguageModelBackend, String) {
            switch spec {
            case let .file(url):
                var local = try InProcessBackend(modelAt: url, numerics: numerics, cacheType: cacheType)
                if let quantized {
                    local = try local.candidate(file: nil, quantization: quantized, numerics: numerics, cacheType: cacheType, lazily: true)
                }
                return (local, local.label + (numerics == .exact ? "" : "@numerics-\(numerics.rawValue)")
                    + (numerics == .exact && local.model.cacheType == .f16 ? "@kv-f16" : ""))
            case let .endpoint(url, name, _):
                let server = OpenAIServer(baseURL: url, model: name, apiKey: key)
                try await server.checkModel()
                return (OpenAIBackend(server: server), "served:\(name)")
            }
        }
        let (base, baseLabel) = try await backend(reference, key: keys.reference, quantized: nil)
        let (other, otherLabel) = try await backend(candidate, key: keys.candidate, quantized: quantize)
        let k = topK > 0 ? topK : 20
        let progress = context.progress, id = context.evaluationID
        func identity(_ spec: ModelSpec) throws -> String {
            switch spec {
            case let .file(url): return try SHA256.hex(modelAt: url)
            case let .endpoint(url, name, _): return "served:\(name)@\(Redaction.scrub(url.absoluteString))"
            }
        }
        let cache = Self.chunkCache(context.itemCache, identity: try context.itemCache.map { _ in
            try identity(reference) + "|" + identity(candidate)
        })
        let (result, signature) = try await DriftRunner.runTopK(reference: base, candidate: other, labels: (baseLabel, otherLabel), textAt: text,
                                                                context: self.context, maxChunks: chunks, topK: k,
                                                                select: context.itemRange(of:), cache: cache) { done, total in
            progress.update(evaluation: id, completed: done, total: total, detail: "tokens")
        }
        guard result.complete else { throw CancellationError() }
        func bytes(_ spec: ModelSpec, _ quantization: GGMLType?) -> Double? {
            if case let .file(url) = spec { return Self.ggufBytes(url, quantization: quantization) }
            return nil
        }
        let run = RunFacts(title: "\(otherLabel) vs \(baseLabel) (top \(k))",
                           sizeRatio: bytes(reference, nil).flatMap { r in bytes(candidate, quantize).map { $0 / r } }, topK: k)
        return try finish(items: Self.rows(result, run), signature: signature, in: context)
    }
}
