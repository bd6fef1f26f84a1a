import AssayCore
import AssayMetrics
import AssayModels
import AssayProcedures
import AssayStats
import Foundation

/// An OpenAI-compatible server under load, as `assay bench-serve` and vLLM's benchmark_serving
/// measure it (docs/throughput.md): the dataset's lines (or JSONL `"prompt"`s) as streamed
/// completions at a request rate and concurrency; TTFT, TPOT, ITL and E2EL, throughput and
/// goodput. Per-request rows (`ttft_ms`, `tpot_ms`, `e2el_ms`, `output_tokens`) let
/// `paired-delta` compare two servers or two builds request by request.
public struct ServingEvaluator: Evaluator {
    public static let id = "serving"
    /// A load test measures the server now: never taken from an earlier run.
    public static let reusable = false
    public static let fileOptions = ["tokenizer"]
    public static let summary = "An OpenAI-compatible server under load: TTFT/TPOT/ITL/E2EL percentiles, throughput and goodput (vLLM benchmark_serving's definitions)"
    public static let options: [OptionSpec] = [
        OptionSpec("num_prompts", .integer(minimum: 1), default: .integer(32), "requests (the dataset's prompts, repeated when fewer)"),
        OptionSpec("api", .choice(["completions", "chat"]), default: .string("completions"), "/v1/completions or /v1/chat/completions (prompt as one user message)"),
        OptionSpec("output_len", .integer(minimum: 1), default: .integer(64), "max_tokens of every request"),
        OptionSpec("ignore_eos", .bool, default: .bool(false), "send ignore_eos so every request generates output_len tokens"),
        OptionSpec("request_rate", .number(exclusiveMinimum: 0), default: nil, "requests per second (gamma gaps); absent: all at once"),
        OptionSpec("burstiness", .number(exclusiveMinimum: 0), default: .number(1), "gamma shape of the gaps (1: Poisson)"),
        OptionSpec("max_concurrency", .integer(minimum: 0), default: .integer(0), "most requests in flight (0: no limit)"),
        OptionSpec("goodput", .string, default: nil, "objectives in ms, e.g. ttft:500,tpot:50,e2el:2000"),
        OptionSpec("tokenizer", .string, default: nil, "the served model's .gguf or directory: token counts when the server reports no usage"),
        OptionSpec("warmup", .integer(minimum: 0), default: .integer(1), "unmeasured requests first"),
        OptionSpec("seed", .integer(minimum: 0), default: .integer(0), "seed of the arrival gaps and of the bootstrap"),
        OptionSpec("resamples", .integer(minimum: 100, maximum: Bootstrap.maximumResamples), default: .integer(1000), "bootstrap resamples of the requests for the latency intervals"),
        OptionSpec("timeout", .number(exclusiveMinimum: 0), default: .number(600), "seconds without a byte before a request fails; a whole answer may take 4 times this"),
    ]
    public static let metrics: [MetricSpec] = [
        MetricSpec("request_throughput", higherIsBetter: true, unit: "req/s", summary: "successful requests per second of the run"),
        MetricSpec("output_throughput", higherIsBetter: true, unit: "tokens/s", summary: "output tokens per second of the run"),
        MetricSpec("request_goodput", higherIsBetter: true, unit: "req/s", summary: "requests meeting every goodput objective per second (needs goodput)"),
        MetricSpec("ttft_ms_mean", higherIsBetter: false, unit: "ms", judgedOnInterval: true, summary: "mean time to first token"),
        MetricSpec("ttft_ms_p50", higherIsBetter: false, unit: "ms", judgedOnInterval: true, summary: "median time to first token"),
        MetricSpec("ttft_ms_p99", higherIsBetter: false, unit: "ms", judgedOnInterval: true, summary: "99th-percentile time to first token"),
        MetricSpec("tpot_ms_mean", higherIsBetter: false, unit: "ms", judgedOnInterval: true, summary: "mean time per output token after the first"),
        MetricSpec("tpot_ms_p50", higherIsBetter: false, unit: "ms", judgedOnInterval: true, summary: "median time per output token"),
        MetricSpec("tpot_ms_p99", higherIsBetter: false, unit: "ms", judgedOnInterval: true, summary: "99th-percentile time per output token"),
        MetricSpec("itl_ms_p50", higherIsBetter: false, unit: "ms", judgedOnInterval: true, summary: "median inter-token latency"),
        MetricSpec("itl_ms_p99", higherIsBetter: false, unit: "ms", judgedOnInterval: true, summary: "99th-percentile inter-token latency"),
        MetricSpec("e2el_ms_mean", higherIsBetter: false, unit: "ms", judgedOnInterval: true, summary: "mean end-to-end latency"),
        MetricSpec("e2el_ms_p99", higherIsBetter: false, unit: "ms", judgedOnInterval: true, summary: "99th-percentile end-to-end latency"),
        MetricSpec("failed_requests", higherIsBetter: false, summary: "requests that failed (connection, HTTP or stream errors)"),
    ]
    /// Goodput counts requests against objectives, which only the `goodput` option sets.
    public static func absentMetric(_ metric: String, options: OptionValues) -> String? {
        guard metric == "request_goodput",
              options.string("goodput").map({ (try? ServingObjectives(parsing: $0))?.isEmpty ?? false }) ?? true else { return nil }
        return "request_goodput needs objectives: set goodput, e.g. goodput: ttft:500,tpot:50"
    }
    public static let datasetKinds: [DatasetKind] = [.text]
    public static let modelRoles: ModelRoles = .model

    let api: CompletionAPI
    let numPrompts: Int, outputLength: Int, ignoreEOS: Bool, rate: Double, burstiness: Double, concurrency: Int?
    let objectives: ServingObjectives, tokenizer: String?, warmup: Int, seed: UInt64, timeout: Double, resamples: Int

    public init(options: OptionValues) throws {
        numPrompts = options.integer("num_prompts") ?? 32
        api = options.string("api") == "chat" ? .chat : .completions
        outputLength = options.integer("output_len") ?? 64
        ignoreEOS = options.bool("ignore_eos")
        rate = options.number("request_rate") ?? .infinity
        burstiness = options.number("burstiness") ?? 1
        concurrency = (options.integer("max_concurrency") ?? 0).nonZero
        do {
            objectives = try options.string("goodput").map { try ServingObjectives(parsing: $0) } ?? ServingObjectives()
        } catch {
            throw EvaluatorError.invalidOption(name: "goodput", message: (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
        tokenizer = options.string("tokenizer")
        warmup = options.integer("warmup") ?? 1
        seed = UInt64(options.integer("seed") ?? 0)
        timeout = options.number("timeout") ?? 600
        resamples = options.integer("resamples") ?? 1000
    }

    static let servedOnly = "serving needs a model served over HTTP: { endpoint: http://…/v1, model: NAME } (throughput measures a local file)"
    public static func refusedModel(_ model: ModelSpec, role: ModelRoles, options: OptionValues) -> String? {
        if case .file = model { return servedOnly }
        return nil
    }

    public func evaluate(in context: EvaluationContext) async throws -> EvaluationResult {
        guard case let .endpoint(url, name, keyVariable)? = context.model else {
            throw EvaluatorError.invalidOption(name: "model", message: Self.servedOnly)
        }
        guard case let .text(path)? = context.dataset else { throw EvaluatorError.missingDataset(evaluator: Self.id) }
        let counter = try tokenizer.map { try CausalTokenizer(loading: URL(fileURLWithPath: $0)) }
        let requests = try ServingPrompts.file(path, count: numPrompts, outputLength: outputLength, tokenizer: counter)
        let server = OpenAIServer(baseURL: url, model: name, apiKey: try ModelSpec.apiKey(variable: keyVariable), timeout: timeout)
        try await ServingBench.prepare(server, first: requests[0], api: api, ignoreEOS: ignoreEOS, warmup: warmup)
        try context.checkCancellation()
        let workload = ServingWorkload(requests: requests, requestRate: rate, burstiness: burstiness, maxConcurrency: concurrency,
                                       ignoreEOS: ignoreEOS, api: api, seed: seed)
        let (progress, evaluation) = (context.progress, context.evaluationID)
        let measured = try await ServingBench.measure(workload, on: server, tokenizer: counter, percentiles: [50, 99], objectives: objectives) { done, total in
            progress.update(evaluation: evaluation, completed: done, total: total, detail: "requests")
        }
        let (run, m, tokens, source) = (measured.run, measured.metrics, measured.outputTokens, measured.tokenSource)
        guard m.completed > 0 else {
            throw EvaluatorError.invalidOption(name: "model", message: "every request failed; the first: \(run.outcomes.first?.error ?? "?")")
        }
        func metric(_ name: String, _ value: Double?, unit: String, higher: Bool) -> MetricValue {
            MetricValue(name: name, value: value, unit: unit, higherIsBetter: higher)
        }
        // Latencies with a 95 % bootstrap interval over the requests (each resampled whole, with its
        // gaps), so that gates are judged on the interval and one slow request does not fail a build.
        let succeeded = run.outcomes.indices.filter { run.outcomes[$0].success }
        let perRequest: [(String, [[Double]], [(String, (LatencySummary) -> Double)])] = [
            ("ttft", succeeded.map { [run.outcomes[$0].ttftSeconds] }, [("mean", \.mean), ("p50", \.median), ("p99", { $0.percentiles[1].1 })]),
            ("tpot", succeeded.map { run.outcomes[$0].timePerOutputToken(outputTokens: tokens[$0]).map { [$0] } ?? [] },
             [("mean", \.mean), ("p50", \.median), ("p99", { $0.percentiles[1].1 })]),
            ("itl", succeeded.map { run.outcomes[$0].interTokenSeconds }, [("p50", \.median), ("p99", { $0.percentiles[1].1 })]),
            ("e2el", succeeded.map { [run.outcomes[$0].latencySeconds] }, [("mean", \.mean), ("p99", { $0.percentiles[1].1 })]),
        ]
        var metrics = [
            metric("request_throughput", m.requestThroughput, unit: "req/s", higher: true),
            metric("output_throughput", m.outputThroughput, unit: "tokens/s", higher: true),
        ]
        if !objectives.isEmpty { metrics.append(metric("request_goodput", m.requestGoodput, unit: "req/s", higher: true)) }
        let draws = Bootstrap.indices(count: succeeded.count, resamples: resamples, seed: seed)
        for (name, values, statistics) in perRequest {
            let summary = LatencySummary(seconds: values.flatMap { $0 }, percentiles: [50, 99])
            let resampled = draws.compactMap { draw in LatencySummary(seconds: draw.flatMap { values[$0] }, percentiles: [50, 99]) }
            for (statistic, read) in statistics {
                let interval = resampled.isEmpty ? nil : Bootstrap.interval(resampled.map(read))
                metrics.append(MetricValue(name: "\(name)_ms_\(statistic)", value: summary.map(read), ciLow: interval?.low, ciHigh: interval?.high,
                                           unit: "ms", higherIsBetter: false))
            }
        }
        metrics.append(MetricValue(name: "failed_requests", value: Double(m.failed), higherIsBetter: false))
        let items = run.outcomes.enumerated().map { index, outcome -> ItemRow in
            var values: [String: JSONValue] = ["output_tokens": .number(Double(tokens[index]))]
            if outcome.success {
                values["ttft_ms"] = .number(outcome.ttftSeconds * 1000)
                values["e2el_ms"] = .number(outcome.latencySeconds * 1000)
                if let tpot = outcome.timePerOutputToken(outputTokens: tokens[index]) { values["tpot_ms"] = .number(tpot * 1000) }
            } else {
                values["error"] = .string(outcome.error ?? "")
            }
            return ItemRow(id: String(index + 1), values: values)
        }
        let signature = Signature([
            ("endpoint", Redaction.url(url)), ("api", api.name), ("model", name), ("prompts", String(numPrompts)), ("output", String(outputLength)),
            ("ignore_eos", ignoreEOS ? "yes" : "no"), ("rate", rate.isFinite ? String(rate) : "inf"), ("burstiness", String(burstiness)),
            ("concurrency", concurrency.map(String.init) ?? "none"), ("seed", String(seed)), ("resamples", String(resamples)), ("tokens", source),
        ]).description
        return EvaluationResult(metrics: metrics, items: items, signature: signature)
    }
}

private extension Int {
    /// nil for 0.
    var nonZero: Int? { self == 0 ? nil : self }
}
