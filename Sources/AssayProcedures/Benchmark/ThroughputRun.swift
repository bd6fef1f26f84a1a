import AssayCheckpoint
import AssayCore
import AssayMetrics
import AssayModels
import AssayStats
import AssayTensor
import Foundation

/// A model under a throughput test, with the facts a llama-bench row reports.
public struct BenchModel: Sendable {
    /// The file name.
    public var name: String
    public var model: LlamaModel
    /// BOS when the vocabulary adds it (the first prompt token).
    public var bos: Int?
    public var summary: CheckpointSummary

    /// A model already loaded, with its checkpoint's summary.
    public init(name: String, model: LlamaModel, bos: Int?, summary: CheckpointSummary) {
        self.name = name
        self.model = model
        self.bos = bos
        self.summary = summary
    }

    /// Loads the model at `url` (a GGUF file or a Hugging Face directory) and reads its summary; a
    /// file without a tokenizer (random-weight shapes for speed work) runs without BOS. The model
    /// runs with `numerics` and a KV cache of `cacheType` (nil: the default for `numerics`).
    /// - Throws: model and checkpoint errors.
    public init(contentsOf url: URL, numerics: LlamaModel.Numerics = .exact, cacheType: LlamaModel.CacheType? = nil) throws {
        var model = try LlamaModel(contentsOf: url)
        model.numerics = numerics
        model.cacheType = cacheType ?? .default(for: numerics)
        let tokenizer = try? CausalTokenizer(loading: url)
        if let tokenizer { try InProcessBackend.checkVocabulary(tokenizer, of: model, path: url.path) }
        self.init(name: url.lastPathComponent, model: model, bos: tokenizer?.addedBOS, summary: try CheckpointSummary(contentsOf: url))
    }
}

/// What `assay bench` and the `throughput` evaluator run: every test on every model, warm-ups
/// first, then the measured repetitions interleaved (A B, B A, A B, …) so that drift on a shared
/// machine hits every model alike (docs/throughput.md).
public struct ThroughputRun: Sendable {
    public var tests: [ThroughputTest]
    public var repetitions: Int
    public var warmup: Int
    /// Seeds the random token ids: warm-up `w` uses `seed + w`, repetition `r` uses `seed + 1000 + r`.
    public var seed: UInt64

    /// A plan; see the properties.
    public init(tests: [ThroughputTest], repetitions: Int, warmup: Int, seed: UInt64) {
        self.tests = tests
        self.repetitions = repetitions
        self.warmup = warmup
        self.seed = seed
    }

    /// Each model's samples per test.
    public struct Samples: Sendable {
        /// `perModel[m][test]`: the repetitions of `test` on model `m`.
        public var perModel: [[ThroughputTest: [ThroughputSample]]]

        /// The samples of `test` on model `m` (empty when it did not run).
        public func of(_ m: Int, _ test: ThroughputTest) -> [ThroughputSample] { perModel[m][test] ?? [] }
    }

    /// Runs the plan. `progress(test index, repetitions done)` after each repetition.
    /// - Throws: `CancellationError` when the task is cancelled (checked before each repetition).
    public func run(_ models: [BenchModel], progress: (Int, Int) -> Void = { _, _ in }) throws -> Samples {
        var samples = Array(repeating: [ThroughputTest: [ThroughputSample]](), count: models.count)
        for (index, test) in tests.enumerated() {
            for model in models {
                for w in 0..<warmup { _ = ThroughputBench.run(test, model: model.model, bos: model.bos, seed: seed &+ UInt64(w)) }
            }
            for r in 0..<repetitions {
                try Task.checkCancellation()
                let order = r % 2 == 0 ? Array(models.indices) : Array(models.indices.reversed())
                for m in order {
                    samples[m][test, default: []].append(ThroughputBench.run(test, model: models[m].model, bos: models[m].bos,
                                                                             seed: seed &+ UInt64(1000 + r)))
                }
                progress(index, r + 1)
            }
        }
        return Samples(perModel: samples)
    }

    /// The llama-bench row of `test` on `model`.
    public func row(_ test: ThroughputTest, model: BenchModel, samples: [ThroughputSample], peakRSS: Int, buildCommit: String) -> ThroughputRow {
        // The harness's own cost: the same procedure with a no-op model (median of 5).
        let overhead = (0..<5).map { ThroughputBench.harnessOverhead(test, vocabulary: model.model.configuration.vocabulary, seed: UInt64($0)).nanoseconds }
            .sorted()[2]
        let summary = ThroughputSummary(tokens: test.tokens, nanoseconds: samples.map(\.nanoseconds),
                                        timeToFirstToken: samples.compactMap(\.timeToFirstTokenNanoseconds),
                                        interTokenGaps: samples.flatMap(\.interTokenNanoseconds))
        return ThroughputRow(
            buildCommit: buildCommit, assayVersion: AssayVersion.current, cpuInfo: ProcessStats.cpuModel, backends: "OpenBLAS",
            openblasCore: BLAS.coreName, modelFilename: model.name,
            modelType: "\(model.model.configuration.architecture) \(model.summary.quantization)"
                + (model.model.numerics == .exact ? "" : ", \(model.model.numerics.rawValue) numerics")
                + (model.model.cacheType == .default(for: model.model.numerics) ? "" : ", \(model.model.cacheType.rawValue) KV cache"),
            modelSize: model.summary.tensorBytes, modelParameters: model.summary.parameters,
            threads: test.threads, prompt: test.prompt, generate: test.generate, test: test.name,
            repetitions: samples.count, warmup: warmup,
            averageNanoseconds: Int(summary.averageNanoseconds.rounded()), stddevNanoseconds: Int(summary.stddevNanoseconds.rounded()),
            averageTokensPerSecond: summary.averageTokensPerSecond, stddevTokensPerSecond: summary.stddevTokensPerSecond,
            samplesNanoseconds: summary.samplesNanoseconds, samplesTokensPerSecond: summary.samplesTokensPerSecond,
            peakRSSBytes: peakRSS, harnessOverheadNanoseconds: Int(overhead),
            harnessOverheadPercent: 100 * Double(overhead) / summary.averageNanoseconds,
            timeToFirstTokenMilliseconds: summary.timeToFirstTokenMilliseconds,
            interTokenP50: summary.interTokenMilliseconds?.p50, interTokenP90: summary.interTokenMilliseconds?.p90,
            interTokenP99: summary.interTokenMilliseconds?.p99)
    }

    /// Model 0 against model 1 on `test`: the ratio of mean tokens/s with a bootstrap 95 % interval.
    public func comparison(_ test: ThroughputTest, _ samples: Samples) -> ThroughputComparison {
        let (ratio, low, high) = ThroughputSummary.speedRatio(samples.of(0, test).map { $0.tokensPerSecond(test.tokens) },
                                                              samples.of(1, test).map { $0.tokensPerSecond(test.tokens) }, seed: seed)
        return ThroughputComparison(test: test.name, threads: test.threads, ratio: ratio, low: low, high: high)
    }
}

/// One row of `assay bench`, with llama-bench's field names where they overlap.
public struct ThroughputRow: Sendable, Equatable, Codable {
    public var buildCommit: String
    public var assayVersion: String
    public var cpuInfo: String
    public var backends: String
    public var openblasCore: String
    public var modelFilename: String
    public var modelType: String
    public var modelSize: Int
    public var modelParameters: Int
    public var threads: Int
    public var prompt: Int
    public var generate: Int
    public var test: String
    public var repetitions: Int
    public var warmup: Int
    public var averageNanoseconds: Int
    public var stddevNanoseconds: Int
    public var averageTokensPerSecond: Double
    public var stddevTokensPerSecond: Double
    public var samplesNanoseconds: [UInt64]
    public var samplesTokensPerSecond: [Double]
    public var peakRSSBytes: Int
    public var harnessOverheadNanoseconds: Int
    public var harnessOverheadPercent: Double
    public var timeToFirstTokenMilliseconds: Double?
    public var interTokenP50: Double?
    public var interTokenP90: Double?
    public var interTokenP99: Double?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case buildCommit = "build_commit", assayVersion = "assay_version", cpuInfo = "cpu_info", backends
        case openblasCore = "openblas_core", modelFilename = "model_filename", modelType = "model_type", modelSize = "model_size"
        case modelParameters = "model_n_params", threads = "n_threads", prompt = "n_prompt", generate = "n_gen", test
        case repetitions, warmup, averageNanoseconds = "avg_ns", stddevNanoseconds = "stddev_ns", averageTokensPerSecond = "avg_ts"
        case stddevTokensPerSecond = "stddev_ts", samplesNanoseconds = "samples_ns", samplesTokensPerSecond = "samples_ts"
        case peakRSSBytes = "peak_rss_bytes", harnessOverheadNanoseconds = "harness_overhead_ns", harnessOverheadPercent = "harness_overhead_pct"
        case timeToFirstTokenMilliseconds = "ttft_ms", interTokenP50 = "itl_ms_p50", interTokenP90 = "itl_ms_p90", interTokenP99 = "itl_ms_p99"
    }

    /// Encodes absent latencies as `null` (prompt-only tests), as the rows always had them.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(buildCommit, forKey: .buildCommit)
        try c.encode(assayVersion, forKey: .assayVersion)
        try c.encode(cpuInfo, forKey: .cpuInfo)
        try c.encode(backends, forKey: .backends)
        try c.encode(openblasCore, forKey: .openblasCore)
        try c.encode(modelFilename, forKey: .modelFilename)
        try c.encode(modelType, forKey: .modelType)
        try c.encode(modelSize, forKey: .modelSize)
        try c.encode(modelParameters, forKey: .modelParameters)
        try c.encode(threads, forKey: .threads)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(generate, forKey: .generate)
        try c.encode(test, forKey: .test)
        try c.encode(repetitions, forKey: .repetitions)
        try c.encode(warmup, forKey: .warmup)
        try c.encode(averageNanoseconds, forKey: .averageNanoseconds)
        try c.encode(stddevNanoseconds, forKey: .stddevNanoseconds)
        try c.encode(averageTokensPerSecond, forKey: .averageTokensPerSecond)
        try c.encode(stddevTokensPerSecond, forKey: .stddevTokensPerSecond)
        try c.encode(samplesNanoseconds, forKey: .samplesNanoseconds)
        try c.encode(samplesTokensPerSecond, forKey: .samplesTokensPerSecond)
        try c.encode(peakRSSBytes, forKey: .peakRSSBytes)
        try c.encode(harnessOverheadNanoseconds, forKey: .harnessOverheadNanoseconds)
        try c.encode(harnessOverheadPercent, forKey: .harnessOverheadPercent)
        try c.encode(timeToFirstTokenMilliseconds, forKey: .timeToFirstTokenMilliseconds)
        try c.encode(interTokenP50, forKey: .interTokenP50)
        try c.encode(interTokenP90, forKey: .interTokenP90)
        try c.encode(interTokenP99, forKey: .interTokenP99)
    }

    /// The CSV columns, in order (llama-bench's first).
    public static let csvColumns = ["build_commit", "assay_version", "cpu_info", "backends", "openblas_core", "model_filename", "model_type",
                                    "model_size", "model_n_params", "n_threads", "n_prompt", "n_gen", "test", "repetitions", "warmup",
                                    "avg_ns", "stddev_ns", "avg_ts", "stddev_ts", "peak_rss_bytes", "harness_overhead_pct", "ttft_ms",
                                    "itl_ms_p50", "itl_ms_p90", "itl_ms_p99"]
}

/// The speed ratio of two models on one test (`assay bench --vs`).
public struct ThroughputComparison: Sendable, Equatable, Codable {
    public var test: String
    public var threads: Int
    /// Mean tokens/s of the first model over the second's.
    public var ratio: Double
    public var low: Double
    public var high: Double

    enum CodingKeys: String, CodingKey {
        case test, threads = "n_threads", ratio, low = "ratio_ci_low", high = "ratio_ci_high"
    }
}
