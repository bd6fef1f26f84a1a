import ArgumentParser
import AssayCheckpoint
import AssayCore
import AssayMetrics
import AssayModels
import AssayProcedures
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
        var prompt: String = "512"

        @Option(name: .customShort("n"), help: "Generation lengths, comma-separated (0: none).")
        var generate: String = "128"

        @Option(name: .customShort("r"), help: "Measured repetitions per test.")
        var repetitions: Int = 5

        @Option(name: .long, help: "Thread counts, comma-separated.")
        var threads: String = "\(ProcessInfo.processInfo.activeProcessorCount)"

        @Option(name: .long, help: "Unmeasured runs of each test first.")
        var warmup: Int = 1

        @Option(name: .long, help: "Compare against this model (interleaved repetitions).")
        var vs: String?

        @Option(name: .long, help: "Seed of the random token ids.")
        var seed: UInt64 = 1

        @Option(name: .long, help: ArgumentHelp("Also write an SVG bar chart of tokens/s (mean ± stddev) per test here.", valueName: "file.svg"))
        var chart: String?

        @Option(name: .long, help: "md (a table like llama-bench's), json (an array of rows) or csv.")
        var format: BenchFormat = .md

        enum BenchFormat: String, ExpressibleByArgument, CaseIterable { case md, json, csv }

        static func list(_ text: String, name: String, minimum: Int) throws -> [Int] {
            let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! >= minimum }) else {
                throw ValidationError("\(name) must be a comma-separated list of integers ≥ \(minimum), e.g. 128,512")
            }
            return values.map { $0! }
        }

        func validate() throws {
            guard repetitions >= 1 else { throw ValidationError("-r must be at least 1") }
            guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more") }
            _ = try Self.list(prompt, name: "-p", minimum: 0)
            _ = try Self.list(generate, name: "-n", minimum: 0)
            _ = try Self.list(threads, name: "--threads", minimum: 1)
            guard try tests().count > 0 else { throw ValidationError("nothing to run: -p and -n are both 0") }
        }

        func tests() throws -> [ThroughputTest] {
            let ps = try Self.list(prompt, name: "-p", minimum: 0), ns = try Self.list(generate, name: "-n", minimum: 0)
            let ts = try Self.list(threads, name: "--threads", minimum: 1)
            return ts.flatMap { t in ps.filter { $0 > 0 }.map { ThroughputTest(prompt: $0, generate: 0, threads: t) }
                + ns.filter { $0 > 0 }.map { ThroughputTest(prompt: 0, generate: $0, threads: t) } }
        }

        func run() async throws {
            let tests = try tests()
            var sides = [try BenchSide(path: model)]
            if let vs {
                // The same file is loaded once: two copies of the same weights can differ by a few
                // percent in memory-bound generation (physical placement), which is not a property
                // of the model (docs/throughput.md).
                let same = URL(fileURLWithPath: vs).standardizedFileURL == URL(fileURLWithPath: model).standardizedFileURL
                sides.append(same ? sides[0] : try BenchSide(path: vs))
            }
            for test in tests {
                if let trained = sides.compactMap(\.model.configuration.trainedContext).min(), test.tokens > trained {
                    throw CommandError(message: "\(test.name) needs \(test.tokens) positions; the model was trained for \(trained)", hint: "use smaller -p/-n")
                }
            }
            let progress = TerminalProgress()
            var samples = Array(repeating: [ThroughputTest: [ThroughputSample]](), count: sides.count)
            for (index, test) in tests.enumerated() {
                for side in sides { for w in 0..<warmup { _ = side.run(test, seed: seed &+ UInt64(w)) } }
                for r in 0..<repetitions {
                    // A B, B A, A B, …: neither side always runs first.
                    let order = r % 2 == 0 ? Array(sides.indices) : Array(sides.indices.reversed())
                    for s in order { samples[s][test, default: []].append(sides[s].run(test, seed: seed &+ UInt64(1000 + r))) }
                    progress.update(evaluation: "bench \(index + 1)/\(tests.count) \(test.name)", completed: r + 1, total: repetitions, detail: "repetitions")
                }
            }
            let rss = ProcessStats.peakResidentBytes
            let rows = sides.indices.map { s in tests.map { sides[s].row($0, samples[s][$0]!, peakRSS: rss, warmup: warmup) } }
            let comparisons: [[String: Any]] = sides.count < 2 ? [] : tests.map { test in
                let (ratio, low, high) = ThroughputSummary.speedRatio(samples[0][test]!.map { $0.tokensPerSecond(test.tokens) },
                                                                      samples[1][test]!.map { $0.tokensPerSecond(test.tokens) }, seed: seed)
                return ["test": test.name, "n_threads": test.threads, "ratio": ratio, "ratio_ci_low": low, "ratio_ci_high": high]
            }
            if let chart {
                let bars = rows.flatMap { $0 }.map { r -> ThroughputChart.Bar in
                    let mean = r["avg_ts"] as! Double, sd = r["stddev_ts"] as! Double
                    let label = sides.count > 1 ? "\(r["test"]!) \(r["model_filename"]!)" : "\(r["test"]!) t\(r["n_threads"]!)"
                    return ThroughputChart.Bar(label: label, value: mean, low: max(0, mean - sd), high: mean + sd)
                }
                let svg = ThroughputChart.svg(title: "\(sides.map(\.name).joined(separator: " vs ")): tokens/s (mean ± stddev)", bars: bars)
                try Data(svg.utf8).write(to: URL(fileURLWithPath: chart), options: .atomic)
            }
            switch format {
            case .json:
                let object: Any = sides.count < 2 ? rows[0] : ["a": rows[0], "b": rows[1], "comparisons": comparisons]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            case .csv:
                print(BenchTable.csv(rows.flatMap { $0 }))
            case .md:
                print(BenchTable.markdown(rows.flatMap { $0 }))
                if !comparisons.isEmpty { print("\n" + BenchTable.comparisonMarkdown(comparisons, a: sides[0].name, b: sides[1].name)) }
            }
        }
    }
}

/// One model under test with the facts a bench row reports.
struct BenchSide {
    let name: String
    let model: LlamaModel
    let bos: Int?
    let sizeBytes: Int
    let parameters: Int
    let type: String

    init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        name = url.lastPathComponent
        model = try LlamaModel(contentsOf: url)
        bos = (try? CausalTokenizer(loading: url))?.addedBOS
        if url.pathExtension == "gguf" {
            let file = try GGUFFile(contentsOf: url)
            sizeBytes = file.tensors.reduce(0) { $0 + $1.byteCount }
            parameters = file.tensors.reduce(0) { $0 + $1.elementCount }
            let matrices = file.tensors.filter { $0.dimensions.count >= 2 }
            let counts = Dictionary(grouping: matrices, by: { $0.type.description }).mapValues(\.count)
            type = "\(model.configuration.architecture) \(counts.max { $0.value < $1.value }?.key ?? "?")"
        } else {
            let checkpoint = try SafetensorsCheckpoint(contentsOf: url)
            sizeBytes = checkpoint.tensors.reduce(0) { $0 + $1.tensor.range.count }
            parameters = checkpoint.tensors.reduce(0) { $0 + $1.tensor.elementCount }
            type = "\(model.configuration.architecture) \(checkpoint.tensors.first?.tensor.dtype.rawValue ?? "?")"
        }
    }

    func run(_ test: ThroughputTest, seed: UInt64) -> ThroughputSample {
        ThroughputBench.run(test, model: model, bos: bos, seed: seed)
    }

    /// A row with llama-bench's field names where they overlap.
    func row(_ test: ThroughputTest, _ samples: [ThroughputSample], peakRSS: Int, warmup: Int) -> [String: Any] {
        // The harness's own cost: the same procedure with a no-op model (median of 5).
        let overhead = (0..<5).map { ThroughputBench.harnessOverhead(test, vocabulary: model.configuration.vocabulary, seed: UInt64($0)).nanoseconds }
            .sorted()[2]
        let summary = ThroughputSummary(tokens: test.tokens, nanoseconds: samples.map(\.nanoseconds),
                                        timeToFirstToken: samples.compactMap(\.timeToFirstTokenNanoseconds),
                                        interTokenGaps: samples.flatMap(\.interTokenNanoseconds))
        var row: [String: Any] = [
            "build_commit": GitInfo.head().map { String($0.prefix(12)) } ?? "unknown", "assay_version": AssayVersion.current,
            "cpu_info": BenchTable.cpuModel, "backends": "OpenBLAS", "openblas_core": BLAS.coreName,
            "model_filename": name, "model_type": type, "model_size": sizeBytes, "model_n_params": parameters,
            "n_threads": test.threads, "n_prompt": test.prompt, "n_gen": test.generate, "test": test.name,
            "repetitions": samples.count, "warmup": warmup,
            "avg_ns": Int(summary.averageNanoseconds.rounded()), "stddev_ns": Int(summary.stddevNanoseconds.rounded()),
            "avg_ts": summary.averageTokensPerSecond, "stddev_ts": summary.stddevTokensPerSecond,
            "samples_ns": summary.samplesNanoseconds, "samples_ts": summary.samplesTokensPerSecond,
            "peak_rss_bytes": peakRSS, "harness_overhead_ns": Int(overhead),
            "harness_overhead_pct": 100 * Double(overhead) / summary.averageNanoseconds,
        ]
        row["ttft_ms"] = summary.timeToFirstTokenMilliseconds ?? NSNull()
        row["itl_ms_p50"] = summary.interTokenMilliseconds?.p50 ?? NSNull()
        row["itl_ms_p90"] = summary.interTokenMilliseconds?.p90 ?? NSNull()
        row["itl_ms_p99"] = summary.interTokenMilliseconds?.p99 ?? NSNull()
        return row
    }
}

/// Text renderings of bench rows.
enum BenchTable {
    /// `model name` from /proc/cpuinfo (or `unknown`).
    static var cpuModel: String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let value = line.split(separator: ":", maxSplits: 1).last else { return "unknown" }
        return value.trimmingCharacters(in: .whitespaces)
    }

    static func size(_ bytes: Int) -> String { String(format: "%.2f MiB", Double(bytes) / 1_048_576) }
    static func params(_ n: Int) -> String { n >= 1_000_000_000 ? String(format: "%.2f B", Double(n) / 1e9) : String(format: "%.2f M", Double(n) / 1e6) }

    /// llama-bench's Markdown table plus latency columns.
    static func markdown(_ rows: [[String: Any]]) -> String {
        var lines = ["| model | size | params | backend | threads | test | t/s | TTFT ms | ITL p50/p90/p99 ms | peak RSS |",
                     "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in rows {
            let itl = (r["itl_ms_p50"] as? Double).map { String(format: "%.2f / %.2f / %.2f", $0, r["itl_ms_p90"] as! Double, r["itl_ms_p99"] as! Double) } ?? ""
            let ttft = (r["ttft_ms"] as? Double).map { String(format: "%.2f", $0) } ?? ""
            lines.append("| \(r["model_filename"]!) (\(r["model_type"]!)) | \(size(r["model_size"] as! Int)) | \(params(r["model_n_params"] as! Int)) | OpenBLAS (\(r["openblas_core"]!)) | \(r["n_threads"]!) | \(r["test"]!) | "
                + String(format: "%.2f ± %.2f", r["avg_ts"] as! Double, r["stddev_ts"] as! Double) + " | \(ttft) | \(itl) | \(size(r["peak_rss_bytes"] as! Int)) |")
        }
        return lines.joined(separator: "\n")
    }

    static func comparisonMarkdown(_ comparisons: [[String: Any]], a: String, b: String) -> String {
        var lines = ["Speed ratio \(a) / \(b) (mean tokens/s, 95 % bootstrap interval over repetitions):", "",
                     "| test | threads | ratio | 95 % CI | verdict |", "| ---: | ---: | ---: | --- | --- |"]
        for c in comparisons {
            let low = c["ratio_ci_low"] as! Double, high = c["ratio_ci_high"] as! Double
            let verdict = low > 1 ? "\(a) faster" : high < 1 ? "\(b) faster" : "no significant difference"
            lines.append("| \(c["test"]!) | \(c["n_threads"]!) | " + String(format: "%.3f | [%.3f, %.3f]", c["ratio"] as! Double, low, high) + " | \(verdict) |")
        }
        return lines.joined(separator: "\n")
    }

    static let csvColumns = ["build_commit", "assay_version", "cpu_info", "backends", "openblas_core", "model_filename", "model_type", "model_size",
                             "model_n_params", "n_threads", "n_prompt", "n_gen", "test", "repetitions", "warmup", "avg_ns", "stddev_ns", "avg_ts",
                             "stddev_ts", "peak_rss_bytes", "harness_overhead_pct", "ttft_ms", "itl_ms_p50", "itl_ms_p90", "itl_ms_p99"]

    static func csv(_ rows: [[String: Any]]) -> String {
        func field(_ value: Any?) -> String {
            let text = value.map { $0 is NSNull ? "" : "\($0)" } ?? ""
            return text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        return ([csvColumns.joined(separator: ",")] + rows.map { r in csvColumns.map { field(r[$0]) }.joined(separator: ",") }).joined(separator: "\n")
    }
}
