import ArgumentParser
import AssayCheckpoint
import AssayCore
import AssayEvaluators
import AssayMetrics
import AssayModels
import AssayProcedures
import AssayReport
import AssayTensor
import Foundation

extension AssayCommand {
    /// `assay bench`: llama-bench-style prompt-processing and generation speed.
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prompt-processing and generation speed of a model, as llama-bench measures it; A/B comparisons with a CI.",
            discussion: """
                Tests cross every list: pp<P> processes P random token ids in one batch from an empty \
                cache (logits for the last position only); tg<N> generates N tokens one at a time from \
                an empty cache (a random id each step, no sampling). Each test runs --warmup times \
                unmeasured, then -r times; tokens/s per repetition = tokens / wall time, reported as \
                mean ± sample stddev (llama-bench's avg_ts, stddev_ts). Generation tests also report the \
                time to the first token and inter-token latency percentiles (HdrHistogram).

                --vs B runs a second model in the same process and interleaves repetitions (A B, B A, \
                A B, …) so drift on a shared machine hits both; each test gets the ratio of mean \
                tokens/s (A over B) with a 95 % bootstrap interval. A ratio whose interval contains \
                1.0 is no evidence of a difference.

                Examples:
                  assay bench model.gguf -p 512 -n 64 -r 5
                  assay bench model.gguf -p 128,512 -n 0 --threads 1,2 --format json
                  assay bench q4_0.gguf --vs q8_0.gguf -p 512 -n 64 -r 6
                """)

        @Argument(help: ArgumentHelp("A Llama-family model: a .gguf file or a Hugging Face directory.", valueName: "model"))
        var model: String

        @Option(name: .customShort("p"), help: "Prompt sizes, comma-separated (0: none).")
        var prompt = IntegerList([512])

        @Option(name: .customShort("n"), help: "Generation lengths, comma-separated (0: none).")
        var generate = IntegerList([128])

        @Option(name: .customShort("r"), parsing: .unconditional, help: "Measured repetitions per test.")
        var repetitions: Int = 5

        @Option(name: .long, help: "Thread counts, comma-separated; the default is the CPUs this process may use (its affinity mask and cgroup CPU limit).")
        var threads = IntegerList([Threads.available])

        @Option(name: .long, parsing: .unconditional, help: "Unmeasured runs of each test first.")
        var warmup: Int = 1

        @Option(name: .long, help: "Compare against this model (interleaved repetitions).")
        var vs: String?

        @Option(name: .long, help: ArgumentHelp("exact (f32 activations against the dequantized weights) or ggml (llama.cpp's CPU kernels: activations quantized to the weights' Q8 blocks, integer products in generation, KV cache in f16).", valueName: "numerics"))
        var numerics: LlamaModel.Numerics = .exact
        @Option(name: .long, help: cacheTypeHelp)
        var cacheType: LlamaModel.CacheType?

        @Option(name: .long, parsing: .unconditional, help: "Seed of the random token ids.")
        var seed: UInt64 = 1

        @Option(name: .long, help: ArgumentHelp("Also write an SVG bar chart of tokens/s (mean ± stddev) per test here.", valueName: "file.svg"))
        var chart: String?

        @Option(name: .long, help: "md (a table like llama-bench's), json (an array of rows) or csv.")
        var format: BenchFormat = .md

        enum BenchFormat: String, ExpressibleByArgument, CaseIterable { case md, json, csv }

        func validate() throws {
            guard repetitions >= 1 else { throw ValidationError("-r must be at least 1") }
            guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more") }
            guard try tests().count > 0 else { throw ValidationError("nothing to run: -p and -n are both 0") }
        }

        func tests() throws -> [ThroughputTest] {
            let ps = try prompt.checked("-p", minimum: 0), ns = try generate.checked("-n", minimum: 0), ts = try threads.checked("--threads", minimum: 1)
            return ts.flatMap { t in ps.filter { $0 > 0 }.map { ThroughputTest(prompt: $0, generate: 0, threads: t) }
                + ns.filter { $0 > 0 }.map { ThroughputTest(prompt: 0, generate: $0, threads: t) } }
        }

        func run() async throws {
            let plan = ThroughputRun(tests: try tests(), repetitions: repetitions, warmup: warmup, seed: seed)
            var models = [try Self.load(model, numerics: numerics, cacheType: cacheType)]
            if let vs {
                // The same file is loaded once: two copies of the same weights can differ by a few
                // percent in memory-bound generation (physical placement), which is not a property
                // of the model (docs/throughput.md).
                let same = URL(fileURLWithPath: vs).standardizedFileURL == URL(fileURLWithPath: model).standardizedFileURL
                models.append(same ? models[0] : try Self.load(vs, numerics: numerics, cacheType: cacheType))
            }
            for test in plan.tests {
                if let trained = models.compactMap(\.model.configuration.trainedContext).min(), test.tokens > trained {
                    throw CommandError(message: "\(test.name) needs \(test.tokens) positions; the model was trained for \(trained)", hint: "use smaller -p/-n")
                }
            }
            let progress = TerminalProgress()
            let samples = try plan.run(models) { index, done in
                progress.update(evaluation: "bench \(index + 1)/\(plan.tests.count) \(plan.tests[index].name)", completed: done,
                                total: repetitions, detail: "repetitions")
            }
            let rss = ProcessStats.peakResidentBytes
            let commit = GitInfo.head().map { String($0.prefix(12)) } ?? "unknown"
            let rows = models.indices.map { m in
                plan.tests.map { plan.row($0, model: models[m], samples: samples.of(m, $0), peakRSS: rss, buildCommit: commit) }
            }
            let comparisons = models.count < 2 ? [] : plan.tests.map { plan.comparison($0, samples) }
            if let chart {
                let bars = rows.flatMap { $0 }.map { r in
                    ChartBar(label: models.count > 1 ? "\(r.test) \(r.modelFilename)" : "\(r.test) t\(r.threads)", value: r.averageTokensPerSecond,
                             low: max(0, r.averageTokensPerSecond - r.stddevTokensPerSecond), high: r.averageTokensPerSecond + r.stddevTokensPerSecond)
                }
                let svg = ChartRenderer.svg(.bars(title: "\(models.map(\.name).joined(separator: " vs ")): tokens/s (mean ± stddev)", unit: "tokens/s", bars: bars))
                try AtomicFile.write(Data(svg.utf8), to: URL(fileURLWithPath: chart))
            }
            switch format {
            case .json:
                struct Comparison: Encodable { var a: [ThroughputRow]; var b: [ThroughputRow]; var comparisons: [ThroughputComparison] }
                if models.count < 2 { try JSONOutput.print(rows[0]) } else { try JSONOutput.print(Comparison(a: rows[0], b: rows[1], comparisons: comparisons)) }
            case .csv:
                Terminal.output(BenchTable.csv(rows.flatMap { $0 }))
            case .md:
                Terminal.output(BenchTable.markdown(rows.flatMap { $0 }))
                if !comparisons.isEmpty { Terminal.output("\n" + BenchTable.comparisonMarkdown(comparisons, a: models[0].name, b: models[1].name)) }
            }
        }

        /// The model at `path` with its checkpoint's facts.
        static func load(_ path: String, numerics: LlamaModel.Numerics, cacheType: LlamaModel.CacheType?) throws -> BenchModel {
            try BenchModel(contentsOf: URL(fileURLWithPath: path), numerics: numerics, cacheType: cacheType)
        }
    }
}
