import AssayCore
import AssayMetrics
import AssayModels
import AssayProcedures
import AssayStats
import Foundation

/// Prompt-processing and generation speed of the in-process engine, as `assay bench` and
/// llama-bench measure it (docs/throughput.md): one pp test and one tg test per evaluation.
public struct ThroughputEvaluator: Evaluator {
    public static let id = "throughput"
    /// Speed measures this machine now: never taken from an earlier run.
    public static let reusable = false
    public static let summary = "llama-bench-style prompt-processing and generation tokens/s, TTFT and inter-token latency (in-process engine)"
    public static let options: [OptionSpec] = [
        OptionSpec("prompt", .integer(minimum: 0), default: .integer(512), "pp test: tokens processed in one batch (0: no pp test)"),
        OptionSpec("generate", .integer(minimum: 0), default: .integer(64), "tg test: tokens generated one by one (0: no tg test)"),
        OptionSpec("repetitions", .integer(minimum: 2), default: .integer(5), "measured repetitions per test"),
        OptionSpec("warmup", .integer(minimum: 0), default: .integer(1), "unmeasured runs first"),
        OptionSpec("threads", .integer(minimum: 1), default: .integer(2), "threads"),
        OptionSpec("seed", .integer(minimum: 0), default: .integer(1), "seed of the random token ids and of the bootstrap"),
        OptionSpec("numerics", .choice(["exact", "ggml"]), default: .string("exact"),
                   "exact (f32 activations) or ggml (llama.cpp's CPU kernels: activations quantized to the weights' Q8 blocks, integer products in generation)"),
        OptionSpec("cache_type", .choice(["f32", "f16"]), default: nil,
                   "KV cache storage: f32 or f16 (half the memory; exact numbers move by f16 rounding). Default: f16 with ggml numerics, else f32"),
    ]
    public static let metrics: [MetricSpec] = [
        MetricSpec("pp_tokens_per_second", higherIsBetter: true, unit: "tokens/s", judgedOnInterval: true, summary: "prompt processing: mean over repetitions, stderr and 95 % bootstrap CI of the mean; gates judge the CI"),
        MetricSpec("tg_tokens_per_second", higherIsBetter: true, unit: "tokens/s", judgedOnInterval: true, summary: "generation: mean over repetitions, stderr and 95 % bootstrap CI of the mean; gates judge the CI"),
        MetricSpec("ttft_ms", higherIsBetter: false, unit: "ms", summary: "generation: mean time to the first token"),
        MetricSpec("itl_ms_p50", higherIsBetter: false, unit: "ms", summary: "generation: median inter-token latency (HdrHistogram)"),
        MetricSpec("itl_ms_p99", higherIsBetter: false, unit: "ms", summary: "generation: 99th-percentile inter-token latency"),
        MetricSpec("peak_rss_bytes", higherIsBetter: false, unit: "bytes", summary: "peak resident memory of the process so far"),
    ]
    /// `prompt: 0` runs no pp test and `generate: 0` no tg test.
    public static func absentMetric(_ metric: String, options: OptionValues) -> String? {
        if metric == "pp_tokens_per_second", options.integer("prompt") == 0 { return "prompt: 0 runs no pp test; give prompt a token count" }
        if ["tg_tokens_per_second", "ttft_ms", "itl_ms_p50", "itl_ms_p99"].contains(metric), options.integer("generate") == 0 {
            return "generate: 0 runs no tg test; give generate a token count"
        }
        return nil
    }
    public static let datasetKinds: [DatasetKind] = []
    public static let modelRoles: ModelRoles = .model

    let prompt: Int, generate: Int, repetitions: Int, warmup: Int, threads: Int, seed: UInt64, numerics: LlamaModel.Numerics
    let cacheType: LlamaModel.CacheType
    public init(options: OptionValues) throws {
        prompt = options.integer("prompt") ?? 512
        generate = options.integer("generate") ?? 64
        repetitions = options.integer("repetitions") ?? 5
        warmup = options.integer("warmup") ?? 1
        threads = options.integer("threads") ?? 2
        seed = UInt64(options.integer("seed") ?? 1)
        numerics = LlamaModel.Numerics(rawValue: options.string("numerics") ?? "exact") ?? .exact
        cacheType = options.string("cache_type").flatMap(LlamaModel.CacheType.init(rawValue:)) ?? .default(for: numerics)
        guard prompt > 0 || generate > 0 else { throw EvaluatorError.invalidOption(name: "prompt", message: "prompt and generate are both 0: nothing to measure") }
    }

    static let localOnly = "throughput needs a local model: a GGUF file or a Hugging Face directory"
    public static func refusedModel(_ model: ModelSpec, role: ModelRoles, options: OptionValues) -> String? {
        if case .endpoint = model { return localOnly }
        return nil
    }

    public func evaluate(in context: EvaluationContext) async throws -> EvaluationResult {
        guard case let .file(url)? = context.model else {
            throw EvaluatorError.invalidOption(name: "model", message: Self.localOnly)
        }
        let model = try BenchModel(contentsOf: url, numerics: numerics, cacheType: cacheType)
        var tests: [ThroughputTest] = []
        if prompt > 0 { tests.append(ThroughputTest(prompt: prompt, generate: 0, threads: threads)) }
        if generate > 0 { tests.append(ThroughputTest(prompt: 0, generate: generate, threads: threads)) }
        let plan = ThroughputRun(tests: tests, repetitions: repetitions, warmup: warmup, seed: seed)
        let samples: ThroughputRun.Samples
        do {
            samples = try plan.run([model]) { index, done in
                context.progress.update(evaluation: context.evaluationID, completed: index * repetitions + done,
                                        total: tests.count * repetitions, detail: "repetitions")
            }
        } catch is CancellationError { throw EvaluatorError.cancelled }
        var metrics: [MetricValue] = []
        var bars: [ChartBar] = []
        for test in tests {
            let summary = ThroughputSummary(tokens: test.tokens, nanoseconds: samples.of(0, test).map(\.nanoseconds),
                                            timeToFirstToken: samples.of(0, test).compactMap(\.timeToFirstTokenNanoseconds),
                                            interTokenGaps: samples.of(0, test).flatMap(\.interTokenNanoseconds))
            let rates = summary.samplesTokensPerSecond
            let ci = Bootstrap.meanInterval(rates, resamples: 1000, seed: seed)
            bars.append(ChartBar(label: test.name, value: summary.averageTokensPerSecond, low: ci.low, high: ci.high))
            let name = test.generate == 0 ? "pp_tokens_per_second" : "tg_tokens_per_second"
            metrics.append(MetricValue(name: name, value: summary.averageTokensPerSecond,
                                       stderr: summary.stddevTokensPerSecond / Double(rates.count).squareRoot(),
                                       ciLow: ci.low, ciHigh: ci.high, unit: "tokens/s", higherIsBetter: true, note: test.name))
            if test.generate > 0 {
                metrics.append(MetricValue(name: "ttft_ms", value: summary.timeToFirstTokenMilliseconds, unit: "ms", higherIsBetter: false))
                metrics.append(MetricValue(name: "itl_ms_p50", value: summary.interTokenMilliseconds?.p50, unit: "ms", higherIsBetter: false))
                metrics.append(MetricValue(name: "itl_ms_p99", value: summary.interTokenMilliseconds?.p99, unit: "ms", higherIsBetter: false))
            }
        }
        metrics.append(MetricValue(name: "peak_rss_bytes", value: Double(ProcessStats.peakResidentBytes), unit: "bytes", higherIsBetter: false))
        let chart = Chart.bars(title: "\(url.lastPathComponent): tokens/s (mean, 95 % CI), \(threads) threads", unit: "tokens/s", bars: bars)
        let signature = Signature([("tests", tests.map(\.name).joined(separator: ",")), ("threads", "\(threads)"), ("reps", "\(repetitions)"),
                                   ("warmup", "\(warmup)"), ("seed", "\(seed)"), ("numerics", numerics.rawValue)]
                                  // The cache type where it is not the numerics' default (signatures of earlier runs stay comparable).
                                  + (model.model.cacheType == .default(for: numerics) ? [] : [("kv", model.model.cacheType.rawValue)]) + [("blas", "openblas")])
        return EvaluationResult(metrics: metrics, signature: signature.description,
                                artifacts: [Artifact(name: "throughput.svg", title: "Tokens per second", chart: chart)])
    }
}
