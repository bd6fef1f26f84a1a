import AssayTestSupport
import Foundation
import Testing

/// `assay bench` on the tiny Llama fixture: llama-bench's fields, one row per test, and the A/B form.
struct BenchCommandTests {
    @Test func rowsHaveLlamaBenchFields() throws {
        let model = TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-llama.gguf").path
        let result = try AssayProcess.run(["bench", model, "-p", "16,32", "-n", "8", "-r", "3", "--threads", "1", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(rows.map { $0["test"] as? String } == ["pp16", "pp32", "tg8"])
        for row in rows {
            for key in ["n_prompt", "n_gen", "n_threads", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts", "samples_ns", "samples_ts", "peak_rss_bytes",
                        "model_size", "model_n_params", "model_type", "cpu_info", "openblas_core", "build_commit", "assay_version"] {
                #expect(row[key] != nil, "missing \(key)")
            }
            #expect((row["samples_ts"] as? [Double])?.count == 3)
            // The harness's own cost (a no-op model through the same procedure): a few hundred ns per
            // token at most — under 1 % of a prompt even on this 18k-parameter model (docs/throughput.md
            // gives SmolLM2's, where it is 10⁻⁵ of the time).
            let overhead = try #require(row["harness_overhead_ns"] as? Int), tokens = (row["n_prompt"] as! Int) + (row["n_gen"] as! Int)
            #expect(overhead / tokens < 2_000, "\(overhead) ns for \(tokens) tokens")
            if row["n_gen"] as? Int == 0 { #expect((row["harness_overhead_pct"] as? Double ?? 100) < 1) }
            #expect(row["n_threads"] as? Int == 1 && row["model_type"] as? String == "llama F32")
        }
        let tg = rows[2]
        #expect(tg["n_gen"] as? Int == 8 && tg["ttft_ms"] as? Double != nil && tg["itl_ms_p99"] as? Double != nil)
        #expect(rows[0]["ttft_ms"] is NSNull)
        // tokens/s is tokens / wall time per repetition, averaged.
        let ns = try #require(rows[1]["samples_ns"] as? [Int]), ts = try #require(rows[1]["samples_ts"] as? [Double])
        for (n, t) in zip(ns, ts) { #expect(abs(t - 32 / (Double(n) / 1e9)) < 1e-6 * t) }
    }

    @Test func comparisonReportsARatioWithAnInterval() throws {
        let model = TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-llama.gguf").path
        let qwen = TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-qwen2").path
        let result = try AssayProcess.run(["bench", model, "--vs", qwen, "-p", "16", "-n", "0", "-r", "4", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let comparison = try #require((object["comparisons"] as? [[String: Any]])?.first)
        let ratio = try #require(comparison["ratio"] as? Double), low = try #require(comparison["ratio_ci_low"] as? Double)
        let high = try #require(comparison["ratio_ci_high"] as? Double)
        #expect(comparison["test"] as? String == "pp16" && low <= ratio && ratio <= high)
        #expect((object["b"] as? [[String: Any]])?.first?["model_type"] as? String == "qwen2 F32")
        let markdown = try AssayProcess.run(["bench", model, "-p", "16", "-n", "4", "-r", "2"])
        #expect(markdown.status == 0 && markdown.stdout.contains("| model | size | params | backend | threads | test | t/s |"))
        let usage = try AssayProcess.run(["bench", model, "-p", "0", "-n", "0"])
        #expect(usage.status == 64 && usage.stderr.contains("nothing to run"))
    }
}

/// `assay compare` on two stored throughput runs: the speed-up B/A with a z statistic.
struct ThroughputCompareTests {
    @Test func storedBenchRunsCompareWithSignificance() throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-tp")
        let model = TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-llama.gguf").path
        let suite = directory.appendingPathComponent("tp.yaml")
        try Data("""
            version: 1
            name: tp
            models:
              tiny: { path: "\(model)" }
            evaluations:
              - { id: speed, evaluator: throughput, model: tiny, options: { prompt: 32, generate: 8, repetitions: 4, threads: 1 } }
            gates:
              - { metric: speed.pp_tokens_per_second, min: 1 }
            """.utf8).write(to: suite)
        var ids: [String] = []
        for _ in 0..<2 {
            let run = try AssayProcess.run(["run", suite.path, "--store", "s.sqlite", "--out", "out", "--format", "text"], in: directory)
            #expect(run.status == 0, "\(run.stderr)")
            ids.append(String(run.stdout.split(separator: " ").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let compare = try AssayProcess.run(["compare", ids[0], ids[1], "--store", "s.sqlite", "--format", "json"], in: directory)
        #expect(compare.status == 0, "\(compare.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(compare.stdout.utf8)) as? [String: Any])
        let row = try #require((object["metrics"] as? [[String: Any]])?.first { $0["metric"] as? String == "speed.pp_tokens_per_second" })
        #expect(row["ratio"] as? Double != nil && row["z"] as? Double != nil)
        #expect((row["significance"] as? String)?.contains("significant") == true)
        let svg = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("out/tp").path).filter { $0.hasSuffix(".svg") }
        #expect(!svg.isEmpty)
    }
}
