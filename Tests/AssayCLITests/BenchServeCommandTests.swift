import AssayTestSupport
import Foundation
import Testing

/// `assay bench-serve` against the real server scripts/test.sh starts: benchmark_serving's keys,
/// one row per load level, and the errors a user meets first.
struct BenchServeCommandTests {
    @Test func rowsHaveBenchmarkServingKeys() throws {
        let (endpoint, name) = try TestEnvironment.testServer()
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let result = try AssayProcess.run(["bench-serve", "--endpoint", endpoint.absoluteString, "--model", name, "--tokenizer", model.path,
                                           "--random-input-len", "16", "--output-len", "6", "--num-prompts", "4", "--max-concurrency", "1,2",
                                           "--goodput", "ttft:60000,tpot:60000", "--detailed", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(rows.map { $0["max_concurrency"] as? Int } == [1, 2])
        for row in rows {
            for key in ["completed", "failed", "duration", "total_input_tokens", "total_output_tokens", "request_throughput", "request_goodput",
                        "output_throughput", "total_token_throughput", "mean_ttft_ms", "median_ttft_ms", "std_ttft_ms", "p99_ttft_ms",
                        "mean_tpot_ms", "p90_tpot_ms", "mean_itl_ms", "p50_itl_ms", "mean_e2el_ms", "p99_e2el_ms", "harness_overhead_pct"] {
                #expect(row[key] != nil && !(row[key] is NSNull), "missing \(key)")
            }
            #expect(row["completed"] as? Int == 4 && row["failed"] as? Int == 0)
            // Generous objectives: every request is good.
            #expect(row["request_goodput"] as? Double == row["request_throughput"] as? Double)
            // This server sends no usage in the stream: the tokenizer counts the output.
            #expect(row["output_tokens_from"] as? String == "tokenizer")
            let outputs = try #require(row["output_lens"] as? [Int])
            #expect(outputs.reduce(0, +) == row["total_output_tokens"] as? Int && outputs.allSatisfy { $0 <= 6 })
            // Each prompt re-encoded to the length asked for, as benchmark_serving's random dataset
            // does (decoded consecutive ids had given 14-18 tokens).
            #expect((row["input_lens"] as? [Int])?.allSatisfy { $0 == 16 } == true, "\(row["input_lens"] ?? "")")
            #expect((row["harness_overhead_pct"] as? Double ?? 100) < 1)
        }
        let markdown = try AssayProcess.run(["bench-serve", "--endpoint", endpoint.absoluteString, "--model", name, "--tokenizer", model.path,
                                             "--random-input-len", "8", "--output-len", "4", "--num-prompts", "2", "--request-rate", "20"])
        #expect(markdown.status == 0 && markdown.stdout.contains("| Mean TTFT (ms) |") && markdown.stdout.contains("rate 20 · concurrency ∞"))
        let chat = try AssayProcess.run(["bench-serve", "--api", "chat", "--endpoint", endpoint.absoluteString, "--model", name,
                                         "--tokenizer", model.path, "--random-input-len", "8", "--output-len", "4", "--num-prompts", "2", "--format", "json"])
        let chatRow = try #require((try JSONSerialization.jsonObject(with: Data(chat.stdout.utf8)) as? [[String: Any]])?.first, "\(chat.stderr)")
        #expect(chatRow["api"] as? String == "chat" && chatRow["completed"] as? Int == 2 && (chatRow["total_output_tokens"] as? Int ?? 0) > 0)
    }

    @Test func suitesGateOnServingLatency() throws {
        let (endpoint, name) = try TestEnvironment.testServer()
        _ = try TestEnvironment.model("smollm2-135m-instruct")
        let directory = try TestEnvironment.temporaryDirectory("assay-serving")
        let environment = ["ASSAY_ENDPOINT": endpoint.absoluteString, "ASSAY_SERVED_MODEL": name]
        let example = TestEnvironment.root.appendingPathComponent("suites/examples/serving.yaml").path
        let run = try AssayProcess.run(["run", example, "--store", "s.sqlite", "--out", "out"], in: directory, environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("out/serving").path)
            .first { $0.hasSuffix(".json") && !$0.contains("items") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("out/serving/\(report)"))) as? [String: Any])
        let evaluations = try #require(object["evaluations"] as? [[String: Any]])
        let metrics = try #require(evaluations.first?["metrics"] as? [[String: Any]])
        let names = Set(metrics.compactMap { $0["name"] as? String })
        #expect(names.isSuperset(of: ["request_throughput", "output_throughput", "request_goodput", "ttft_ms_p99", "tpot_ms_p50", "itl_ms_p99", "e2el_ms_p99"]))
        #expect((evaluations.first?["signature"] as? String)?.contains("|concurrency:1|") == true)
        // Latencies carry a bootstrap interval around the value (gates judge it).
        let p99 = try #require(metrics.first { $0["name"] as? String == "ttft_ms_p99" })
        let (low, value, high) = (try #require(p99["ci_low"] as? Double), try #require(p99["value"] as? Double), try #require(p99["ci_high"] as? Double))
        #expect(low <= value + 1e-9 && value <= high + 1e-9 && low > 0)

        // A gate no server meets fails the run (exit 1) and says by how much.
        let suite = directory.appendingPathComponent("fast.yaml")
        try Data("""
            version: 1
            name: fast
            models:
              served: { endpoint: "${ASSAY_ENDPOINT}", model: "${ASSAY_SERVED_MODEL}" }
            datasets:
              requests: { kind: text, path: "\(TestEnvironment.root.appendingPathComponent("Fixtures/prompts/short-requests.txt").path)" }
              mt: { kind: parallel, hypotheses: "\(TestEnvironment.root.appendingPathComponent("Fixtures/mt/system-a.txt").path)",
                    references: ["\(TestEnvironment.root.appendingPathComponent("Fixtures/mt/reference.txt").path)"] }
            evaluations:
              - { id: load, evaluator: serving, model: served, dataset: requests, options: { num_prompts: 3, output_len: 4, warmup: 0 } }
              - { id: completions, evaluator: generation, model: served, dataset: mt, options: { max_tokens: 4 } }
            gates:
              - { metric: load.request_throughput, min: 1000000 }
            """.utf8).write(to: suite)
        let failing = try AssayProcess.run(["run", suite.path, "--store", "s.sqlite", "--out", "out", "--format", "json"], in: directory, environment: environment)
        #expect(failing.status == 1, "\(failing.stderr)")
        #expect((failing.stdout + failing.stderr).contains("load.request_throughput"))
        // The generation evaluator runs on the served model too (the OpenAI-compatible backend).
        #expect(failing.stdout.contains("model:\(name)@\(endpoint.absoluteString)|template:"), "\(failing.stdout.prefix(2000))")
    }

    @Test func mistakesAreExplained() throws {
        let unreachable = try AssayProcess.run(["bench-serve", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m",
                                                "--prompts", TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt").path])
        #expect(unreachable.status == 2 && unreachable.stderr.contains("cannot reach http://127.0.0.1:9/v1/models"), "\(unreachable.stderr)")
        #expect(unreachable.stderr.contains("hint: start the server"))
        let noPrompts = try AssayProcess.run(["bench-serve", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m"])
        #expect(noPrompts.status == 64 && noPrompts.stderr.contains("--prompts FILE or --random-input-len N"))
        let badURL = try AssayProcess.run(["bench-serve", "--endpoint", "127.0.0.1:8000", "--model", "m", "--prompts", "x"])
        #expect(badURL.status == 64 && badURL.stderr.contains("http(s) URL"))
        let badGoodput = try AssayProcess.run(["bench-serve", "--endpoint", "http://h/v1", "--model", "m", "--prompts", "x", "--goodput", "latency:5"])
        #expect(badGoodput.status == 64 && badGoodput.stderr.contains("not an objective"), "\(badGoodput.stderr)")
        let (endpoint, _) = try TestEnvironment.testServer()
        let wrongName = try AssayProcess.run(["bench-serve", "--endpoint", endpoint.absoluteString, "--model", "gpt-9",
                                              "--prompts", TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt").path])
        #expect(wrongName.status == 2 && wrongName.stderr.contains("does not serve a model named 'gpt-9'"), "\(wrongName.stderr)")
    }
}
