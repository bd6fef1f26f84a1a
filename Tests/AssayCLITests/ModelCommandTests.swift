import AssayCheckpoint
import AssayTestSupport
import Foundation
import Testing

/// `assay inspect` and `assay tokenize` end to end.
struct ModelCommandTests {
    @Test func inspectTinyGGUF() throws {
        let path = TestEnvironment.root.appendingPathComponent("Fixtures/gguf/tiny.gguf").path
        let result = try AssayProcess.run(["inspect", path, "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["architecture"] as? String == "llama")
        #expect(object["parameters"] as? Int == 340)
        #expect(object["file_bytes"] as? Int == 1008)
        #expect((object["tensors"] as? [[String: Any]])?.map { $0["type"] as? String } == ["F32", "F16", "Q8_0", "Q4_K"])
        #expect((object["quantization_mix"] as? [String: Int])?["Q4_K"] == 256)
    }

    @Test func inspectRejectsAMalformedFile() throws {
        let path = TestEnvironment.root.appendingPathComponent("Fixtures/malformed/misaligned-tensor.gguf").path
        let result = try AssayProcess.run(["inspect", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("error: \(path): tensor 't' data offset 4 is not a multiple of the alignment 32"))
        #expect(result.stderr.contains("hint: "))
    }

    /// A process bound to one CPU (taskset, as Slurm or a cpuset binds a job) defaults to one
    /// thread; unbound, to every CPU it may use.
    @Test func defaultThreadsFollowTheAffinityMask() throws {
        let taskset = "/usr/bin/taskset"
        guard FileManager.default.isExecutableFile(atPath: taskset) else {
            try TestEnvironment.missing("no \(taskset) (util-linux) to bind a process to one CPU")
        }
        // The first CPU this test may run on (`Cpus_allowed_list: 0-1` or `2,5-7`).
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let allowed = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
        let cpu = try #require(allowed.map { String($0.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces).prefix { $0.isNumber }) })
        let process = Process()
        process.executableURL = URL(fileURLWithPath: taskset)
        process.arguments = ["-c", cpu, TestEnvironment.assayBinary.path, "bench", "--help"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // The help text wrapped at any width: words only.
        func words(_ text: String) -> String { text.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        let bound = words(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(bound.contains("cgroup CPU limit). (default: 1)"), "\(bound)")
        let free = words(try AssayProcess.run(["bench", "--help"]).stdout)
        let count = free.range(of: "cgroup CPU limit). (default: ").flatMap { Int(free[$0.upperBound...].prefix { $0.isNumber }) }
        #expect(count.map { (1...ProcessInfo.processInfo.processorCount).contains($0) } == true, "\(free)")
    }

    @Test func tokenizeTextAndFile() throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let text = try AssayProcess.run(["tokenize", model.path, "Hello, world!", "--format", "json"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("\"count\":4") && text.stdout.contains("[19556,28,905,17]"))
        let directory = try TestEnvironment.temporaryDirectory()
        try "Hello, world!\n".write(to: directory.appendingPathComponent("t.txt"), atomically: true, encoding: .utf8)
        let file = try AssayProcess.run(["tokenize", model.path, "--file", "t.txt", "--format", "json"], in: directory)
        #expect(file.stdout == text.stdout)  // one trailing newline dropped, as llama-perplexity -f
        let usage = try AssayProcess.run(["tokenize", model.path])
        #expect(usage.status == 64)
    }
}

struct PerplexityCommandTests {
    @Test func jsonOutputHasTheDefinitionInItsSignature() throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let text = try TestEnvironment.sharedData("wikitext2/wiki.test.raw")
        let result = try AssayProcess.run(["perplexity", model.path, text.path, "--context", "64", "--chunks", "2", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["tokens_scored"] as? Int == 2 * (64 - 32 - 1))
        #expect((object["signature"] as? String)?.hasPrefix("mode:chunked|ctx:64|chunks:2|score:second-half|bos:no|tokens:62|tokenizer:bpe|model:") == true)
        #expect((object["perplexity"] as? Double ?? 0) > 1)
        #expect(object["complete"] as? Bool == true && object["mode"] as? String == "chunked" && object["word_perplexity"] == nil)
        // Each chunk's totals, which add up to the whole (what compare_chunks.py reads).
        let chunks = try #require(object["per_chunk"] as? [[String: Any]])
        #expect(chunks.map { $0["index"] as? Int } == [0, 1] && chunks.allSatisfy { $0["tokens"] as? Int == 31 })
        let sums = chunks.compactMap { $0["nll_sum"] as? Double }, mean = try #require(object["nll_mean"] as? Double)
        #expect(sums.count == 2 && abs((sums[0] + sums[1]) / 62 - mean) < 1e-12)
        #expect(abs(try #require(chunks[0]["perplexity"] as? Double) - exp(sums[0] / 31)) < 1e-9 * exp(sums[0] / 31))
        let tooShort = try AssayProcess.run(["perplexity", model.path, TestEnvironment.root.appendingPathComponent("Fixtures/mt/reference.txt").path, "--context", "512"])
        #expect(tooShort.status == 2 && tooShort.stderr.contains("fewer than two chunks of 512"))
        let tooLong = try AssayProcess.run(["perplexity", model.path, text.path, "--context", "9000"])
        #expect(tooLong.status == 2 && tooLong.stderr.contains("context 9000 is beyond the model's trained length (8192 tokens)"), "\(tooLong.stderr)")
    }

    /// `--cache-type` reaches the engine: an f16 cache with exact numerics is named in the
    /// signature and moves the perplexity a little; with ggml numerics f16 is the default and the
    /// numbers are the f32 cache's.
    @Test func cacheTypeIsNamedWhereItCanChangeTheNumbers() throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let text = try TestEnvironment.sharedData("wikitext2/wiki.test.raw")
        func run(_ extra: [String]) throws -> (perplexity: Double, signature: String) {
            let result = try AssayProcess.run(["perplexity", model.path, text.path, "--context", "64", "--chunks", "2", "--format", "json"] + extra)
            #expect(result.status == 0, "\(result.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            return (try #require(object["perplexity"] as? Double), try #require(object["signature"] as? String))
        }
        let exact32 = try run([]), exact16 = try run(["--cache-type", "f16"])
        #expect(!exact32.signature.contains("kv:") && exact16.signature.hasSuffix("|kv:f16"))
        #expect(exact16.perplexity != exact32.perplexity && abs(exact16.perplexity / exact32.perplexity - 1) < 1e-3)
        let ggml16 = try run(["--numerics", "ggml"]), ggml32 = try run(["--numerics", "ggml", "--cache-type", "f32"])
        #expect(ggml16.signature.hasSuffix("|numerics:ggml") && ggml16.signature == ggml32.signature)
        #expect(ggml16.perplexity == ggml32.perplexity)
        let bench = try AssayProcess.run(["bench", model.path, "-p", "8", "-n", "2", "-r", "1", "--cache-type", "f16", "--format", "json"])
        #expect(bench.status == 0 && bench.stdout.contains("f16 KV cache"), "\(bench.stderr)")
    }

    /// Rolling mode prints lm-eval's word/byte perplexity and bits per byte; documents are checked.
    @Test func rollingModeReportsWordAndBytePerplexity() throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let directory = try TestEnvironment.temporaryDirectory("assay-rolling")
        let jsonl = directory.appendingPathComponent("docs.jsonl")
        try Data("{\"body\": \"The quick brown fox jumps over the lazy dog.\"}\n{\"body\": \"A second, shorter document.\"}\n".utf8).write(to: jsonl)
        let result = try AssayProcess.run(["perplexity", model.path, jsonl.path, "--mode", "rolling", "--split", "jsonl", "--field", "body",
                                           "--context", "8", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["mode"] as? String == "rolling" && object["documents"] as? Int == 2)
        let documents = try #require(object["per_document"] as? [[String: Any]])
        #expect(documents.map { $0["words"] as? Int } == [9, 4] && object["per_chunk"] == nil)
        let tokens = try #require(object["tokens_scored"] as? Int), windows = try #require(object["chunks"] as? Int)
        #expect(tokens > 10 && windows > 2)  // 8-token windows: both documents need more than one
        let bpb = try #require(object["bits_per_byte"] as? Double), bytePPL = try #require(object["byte_perplexity"] as? Double)
        #expect(abs(exp2(bpb) - bytePPL) < 1e-9 * bytePPL)
        #expect((object["word_perplexity"] as? Double ?? 0) > (object["perplexity"] as? Double ?? .infinity))
        #expect((object["signature"] as? String)?.hasPrefix("mode:rolling|ctx:8|stride:8|prefix:1|docs:2|tokens:\(tokens)|split:jsonl:body|") == true)

        try Data("{\"body\": \"fine\"}\n{\"body\": 7}\n".utf8).write(to: jsonl)
        let bad = try AssayProcess.run(["perplexity", model.path, jsonl.path, "--mode", "rolling", "--split", "jsonl", "--field", "body"])
        #expect(bad.status == 2 && bad.stderr.contains("docs.jsonl:2: field 'body' is not a string"), "\(bad.stderr)")
        let misuse = try AssayProcess.run(["perplexity", model.path, jsonl.path, "--split", "lines"])
        #expect(misuse.status == 64 && misuse.stderr.contains("--split and --stride apply to --mode rolling"))
    }

    /// Ctrl-C stops after the current chunk and prints what was computed, marked as partial.
    @Test func ctrlCPrintsAPartialResult() throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let text = try TestEnvironment.sharedData("wikitext2/wiki.test.raw")
        let running = try AssayProcess.start(["perplexity", model.path, text.path, "--context", "128", "--format", "json"],
                                             environment: ["ASSAY_PROGRESS": "always"])
        // The first progress line means chunks are being scored.
        #expect(AssayProcess.waitForStderr(running, containing: "perplexity: tokens 128/"))
        kill(running.process.processIdentifier, SIGINT)
        let out = running.outPipe.fileHandleForReading.readDataToEndOfFile()
        running.process.waitUntilExit()
        #expect(running.process.terminationStatus == 130)
        let object = try #require(try JSONSerialization.jsonObject(with: out) as? [String: Any])
        #expect(object["complete"] as? Bool == false)
        #expect((object["chunks"] as? Int ?? .max) < 304_829 / 128)
        #expect((object["signature"] as? String)?.hasSuffix("|partial") == true)
    }
}

struct PerplexitySuiteTests {
    @Test func examplePerplexitySuiteRunsAndGates() throws {
        _ = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        _ = try TestEnvironment.sharedData("wikitext2/wiki.test.raw")
        let directory = try TestEnvironment.temporaryDirectory()
        let suite = TestEnvironment.root.appendingPathComponent("suites/examples/perplexity.yaml").path
        let result = try AssayProcess.run(["run", suite, "--store", "s.sqlite", "--out", "out", "--format", "json"], in: directory,
                                          environment: ["ASSAY_DATA": try TestEnvironment.sharedData("").path])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let metrics = try #require((report["evaluations"] as? [[String: Any]])?.first?["metrics"] as? [[String: Any]])
        let ppl = try #require(metrics.first { $0["name"] as? String == "perplexity" })
        // The same 4 chunks of 128 tokens as Tests/AssayModelsTests (llama.cpp: 32.739).
        #expect(abs((ppl["value"] as? Double ?? 0) - 32.687) < 0.01)
        #expect((ppl["stderr"] as? Double ?? 0) > 7)
        #expect(report["verdict"] as? String == "pass")
        #expect(try JSONSchemaValidator(schemaAt: TestEnvironment.reportSchema).violations(of: Data(result.stdout.utf8)) == [])
        // The model's facts come from the GGUF header.
        let model = try #require((report["models"] as? [[String: Any]])?.first)
        #expect(model["architecture"] as? String == "llama" && model["quantization"] as? String == "Q4_1", "\(model)")
        #expect((model["params"] as? Int).map { (130_000_000...140_000_000).contains($0) } == true, "\(model)")
    }
}

/// The release rule as a suite: F32 against Q8_0 on SmolLM2 (the copies scripts/make-derived-models.sh
/// writes), both gates judged on their intervals, every measurement reported whatever the verdict.
struct QuantizationGateSuiteTests {
    @Test func judgesPerplexityLossAndSpeedUpOnTheirIntervals() throws {
        _ = try TestEnvironment.model("derived/smollm2-135m-instruct.f32.gguf")
        _ = try TestEnvironment.model("derived/smollm2-135m-instruct.q8_0.gguf")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let suite = TestEnvironment.root.appendingPathComponent("suites/examples/quantization-gate.yaml").path
        let result = try AssayProcess.run(["run", suite, "--store", "s.sqlite", "--out", "out", "--format", "json"], in: directory,
                                          environment: ["ASSAY_DATA": try TestEnvironment.sharedData("").path])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        let verdict = report["verdict"] as? String
        #expect((verdict == "pass" && result.status == 0) || (verdict == "fail" && result.status == 1), "\(result.stderr)")
        let gates = try #require(report["gates"] as? [[String: Any]])
        #expect(gates.count == 2 && gates.allSatisfy { ($0["message"] as? String)?.contains("judged on the 95 % interval") == true }, "\(gates)")
        // Q8_0 of the same weights loses far less than 1.2 %.
        #expect(gates.first { $0["metric"] as? String == "q8_0-vs-full.ppl_ratio" }?["status"] as? String == "pass", "\(gates)")
        let drift = try #require((report["evaluations"] as? [[String: Any]])?.first { $0["id"] as? String == "q8_0-vs-full" })
        let metrics = try #require(drift["metrics"] as? [[String: Any]])
        for name in ["ppl_ratio", "tg_speedup", "pp_speedup"] {
            let metric = try #require(metrics.first { $0["name"] as? String == name }, "\(name)")
            let value = try #require(metric["value"] as? Double), low = try #require(metric["ci_low"] as? Double), high = try #require(metric["ci_high"] as? Double)
            #expect(low < value && value < high, "\(name): \(metric)")
        }
        // (How fast is for bench/ and docs/performance.md, not for a test running beside others.)
        #expect(try JSONSchemaValidator(schemaAt: TestEnvironment.reportSchema).violations(of: Data(result.stdout.utf8)) == [])
    }
}

struct GenerateCommandTests {
    @Test func greedyContinuationEqualsLlamaCppText() throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let golden = TestEnvironment.root.appendingPathComponent("Tests/AssayModelsTests/Golden/smollm2-greedy.json")
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: golden)) as? [String: Any])
        let prompt = try #require(expected["prompt"] as? String)
        let tokens = try #require(expected["generated"] as? [Int])
        let result = try AssayProcess.run(["generate", model.path, prompt, "--max-tokens", "\(tokens.count)", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["prompt_tokens"] as? [Int] == expected["prompt_tokens"] as? [Int])
        #expect(object["tokens"] as? [Int] == tokens)
        #expect(object["text"] as? String == expected["text"] as? String)
        #expect(object["finish_reason"] as? String == "length" && object["sampling"] as? String == "greedy")
        let usage = try AssayProcess.run(["generate", model.path, "x", "--max-tokens", "0"])
        #expect(usage.status == 64 && usage.stderr.contains("--max-tokens must be at least 1"))
        let badTemplate = try AssayProcess.run(["generate", model.path, "x", "--template", "no placeholder"])
        #expect(badTemplate.status == 64 && badTemplate.stderr.contains("--template must contain {prompt}"))
    }

    /// A stop string cuts the text before it; a chat template is applied with its special tokens.
    @Test func stopStringsAndTemplates() throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let golden = TestEnvironment.root.appendingPathComponent("Tests/AssayModelsTests/Golden/smollm2-greedy.json")
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: golden)) as? [String: Any])
        let prompt = try #require(expected["prompt"] as? String), full = try #require(expected["text"] as? String)
        // Stop at the second word of llama.cpp's greedy continuation.
        let words = full.split(separator: " ")
        let stop = String(words[1])
        let cut = try AssayProcess.run(["generate", model.path, prompt, "--max-tokens", "24", "--stop", stop, "--stop", "never-there", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(cut.stdout.utf8)) as? [String: Any])
        #expect(object["finish_reason"] as? String == "stop")
        #expect(object["text"] as? String == String(full[..<full.range(of: stop)!.lowerBound]))
        let chat = try AssayProcess.run(["generate", model.path, "Say hello.", "--max-tokens", "4", "--format", "json",
                                         "--template", "<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"])
        let chatObject = try #require(try JSONSerialization.jsonObject(with: Data(chat.stdout.utf8)) as? [String: Any])
        let promptTokens = try #require(chatObject["prompt_tokens"] as? [Int])
        #expect(promptTokens.first == 1 && promptTokens.filter { $0 == 1 }.count == 2 && promptTokens.contains(2))  // <|im_start|> ×2, <|im_end|>
    }
}

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

/// `assay bertscore` and `assay bertscore-baseline` end to end on Fixtures/mt.
struct BERTScoreCommandTests {
    static let mt = TestEnvironment.root.appendingPathComponent("Fixtures/mt")

    @Test func jsonHasPerItemScoresMeansAndSignature() throws {
        let encoder = try TestEnvironment.model("all-minilm-l6-v2")
        let a = Self.mt.appendingPathComponent("system-a.txt").path, ref = Self.mt.appendingPathComponent("reference.txt").path
        let result = try AssayProcess.run(["bertscore", a, "--ref", ref, "--encoder", encoder.path, "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let f1 = try #require(object["f1"] as? [Double])
        #expect(f1.count == 20 && (object["precision"] as? [Double])?.count == 20 && (object["recall"] as? [Double])?.count == 20)
        let mean = try #require(object["mean"] as? [String: Double])
        #expect(abs(mean["f1"]! - f1.reduce(0, +) / 20) < 1e-12)
        #expect((object["signature"] as? String)?.hasPrefix("all-minilm-l6-v2_L6_no-idf_version=assay-") == true)

        // Two references: each of P, R, F is the best of the two, so never below one reference.
        let two = try AssayProcess.run(["bertscore", a, "--ref", ref, "--ref", Self.mt.appendingPathComponent("system-b.txt").path,
                                        "--encoder", encoder.path, "--format", "json", "--layer", "6"])
        let f1Two = try #require((try JSONSerialization.jsonObject(with: Data(two.stdout.utf8)) as? [String: Any])?["f1"] as? [Double])
        // (Within 1e-6: the second run embeds other batches, and OpenBLAS's kernels for another matrix
        // height may round differently.)
        #expect(zip(f1Two, f1).allSatisfy { $0 >= $1 - 1e-6 })

        let text = try AssayProcess.run(["bertscore", a, "--ref", ref, "--encoder", encoder.path, "--idf", "--quantize", "q8_0"])
        #expect(text.status == 0 && text.stdout.hasPrefix("all-minilm-l6-v2-q8_0_L6_idf_version=assay-") && text.stdout.contains(" F1: 0."))
    }

    @Test func badInputsFailWithWhereAndHow() throws {
        let encoder = try TestEnvironment.model("all-minilm-l6-v2")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = Self.mt.appendingPathComponent("system-a.txt").path, ref = Self.mt.appendingPathComponent("reference.txt").path
        try "LAYER,P,R,F\n6,0.8,oops,0.8\n".write(to: directory.appendingPathComponent("b.csv"), atomically: true, encoding: .utf8)
        let bad = try AssayProcess.run(["bertscore", a, "--ref", ref, "--encoder", encoder.path, "--rescale", "b.csv"], in: directory)
        #expect(bad.status == 2 && bad.stderr.contains("b.csv:2: P, R and F must be numbers below 1") && bad.stderr.contains("hint: "), "\(bad.stderr)")
        let layer = try AssayProcess.run(["bertscore", a, "--ref", ref, "--encoder", encoder.path, "--layer", "9"])
        #expect(layer.status == 2 && layer.stderr.contains("layers 0…6"), "\(layer.stderr)")
        let missing = try AssayProcess.run(["bertscore", a, "--ref", ref, "--encoder", directory.appendingPathComponent("none").path])
        #expect(missing.status == 2 && missing.stderr.contains("no encoder here"), "\(missing.stderr)")
        let notes = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt").path
        let short = try AssayProcess.run(["bertscore", a, "--ref", notes, "--encoder", encoder.path])
        #expect(short.status == 2 && short.stderr.contains("field-notes.txt: has ") && short.stderr.contains("lines but the hypotheses have 20"), "\(short.stderr)")
    }

    @Test func baselineCommandWritesBertScoreFormat() throws {
        let encoder = try TestEnvironment.model("all-minilm-l6-v2")
        let notes = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt").path
        let result = try AssayProcess.run(["bertscore-baseline", notes, "--encoder", encoder.path, "--pairs", "40", "--seed", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first == "LAYER,P,R,F" && lines.count == 8 && lines[7].hasPrefix("6,0."))
    }
}

/// `assay quantize` end to end: the file loads in Assay; bad arguments are refused.
struct QuantizeCommandTests {
    /// llama.cpp's K mixes have their own rules for mixtures of experts, fused QKV and latent
    /// attention: refused for those models, plain types written.
    @Test func mixesAreRefusedWhereLlamaQuantizeHasOtherRules() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let models = TestEnvironment.root.appendingPathComponent("Fixtures/models")
        for (name, reason) in [("tiny-mixtral", "mixture of experts"), ("tiny-phi3", "fused QKV"), ("tiny-deepseek3", "mixture of experts")] {
            let out = directory.appendingPathComponent("\(name).gguf").path
            let mix = try AssayProcess.run(["quantize", models.appendingPathComponent("\(name).gguf").path, "--type", "q4_k_m", "--out", out])
            #expect(mix.status == 2 && mix.stderr.contains(reason) && !FileManager.default.fileExists(atPath: out), "\(name): \(mix.stderr)")
            let plain = try AssayProcess.run(["quantize", models.appendingPathComponent("\(name).gguf").path, "--type", "q8_0", "--out", out])
            #expect(plain.status == 0, "\(name): \(plain.stderr)")
        }
    }

    @Test func writesALoadableFileAndRefusesBadArguments() throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("q8.gguf").path
        let result = try AssayProcess.run(["quantize", model.path, "--type", "q8_0", "--out", out])
        #expect(result.status == 0 && result.stdout.contains("tensors 61 F32, 211 Q8_0"), "\(result.stdout)\(result.stderr)")
        let inspect = try AssayProcess.run(["inspect", out, "--format", "json"])
        #expect(inspect.status == 0 && inspect.stdout.contains("\"Q8_0\":134479872"), "\(inspect.stdout)")
        let generate = try AssayProcess.run(["generate", out, "The capital of France is", "--max-tokens", "4"])
        #expect(generate.status == 0 && !generate.stdout.isEmpty, "\(generate.stderr)")

        // A full-precision copy: every weight dequantized to f32 (the values llama.cpp reads from the Q4_1 file).
        let full = directory.appendingPathComponent("f32.gguf").path
        let f32 = try AssayProcess.run(["quantize", model.path, "--type", "f32", "--out", full])
        #expect(f32.status == 0 && f32.stdout.contains("tensors 272 F32"), "\(f32.stdout)\(f32.stderr)")
        let source = try GGUFFile(contentsOf: model), copy = try GGUFFile(contentsOf: URL(fileURLWithPath: full))
        for name in ["blk.0.attn_q.weight", "token_embd.weight"] {
            let a = try #require(source.tensors.first { $0.name == name }), b = try #require(copy.tensors.first { $0.name == name })
            let original = try source.floats(a), copied = try copy.floats(b)
            #expect(b.type == .f32 && b.dimensions == a.dimensions && copied == original)
        }
        let badType = try AssayProcess.run(["quantize", model.path, "--type", "q3_x", "--out", out])
        #expect(badType.status == 64 && badType.stderr.contains("unknown --type 'q3_x'"))
        let same = try AssayProcess.run(["quantize", model.path, "--type", "q8_0", "--out", model.path])
        #expect(same.status == 64)
        let blocked = directory.appendingPathComponent("file")
        try Data().write(to: blocked)
        let unwritable = try AssayProcess.run(["quantize", model.path, "--type", "q8_0", "--out", blocked.appendingPathComponent("x.gguf").path])
        #expect(unwritable.status == 2 && unwritable.stderr.contains("cannot write"), "\(unwritable.stderr)")
    }
}

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
            #expect((row["input_lens"] as? [Int])?.allSatisfy { $0 >= 14 && $0 <= 18 } == true, "\(row["input_lens"] ?? "")")
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

/// A checkpoint whose metadata holds a value the engine would trap on: exit 2 with the key named,
/// never a crash (signal 4/6) — on the command line and inside a suite, where the other
/// evaluations' results must survive.
struct HostileCheckpointCommandTests {
    static func crafted(_ name: String, _ key: String, _ value: Any) throws -> URL {
        let source = TestEnvironment.root.appendingPathComponent("Fixtures/models/\(name)")
        let directory = try TestEnvironment.temporaryDirectory("assay-hostile")
        for item in try FileManager.default.contentsOfDirectory(atPath: source.path) where item != "config.json" {
            try FileManager.default.copyItem(at: source.appendingPathComponent(item), to: directory.appendingPathComponent(item))
        }
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as? [String: Any])
        config[key] = value
        try JSONSerialization.data(withJSONObject: config).write(to: directory.appendingPathComponent("config.json"))
        return directory
    }

    @Test func zeroHeadsExitTwoNamingTheKey() throws {
        let model = try Self.crafted("tiny-llama", "num_attention_heads", 0)
        let text = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt")
        let result = try AssayProcess.run(["perplexity", model.path, text.path, "--context", "16"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("num_attention_heads") && result.stderr.contains("hint:"), "\(result.stderr)")

        let encoder = try Self.crafted("tiny-roberta", "num_hidden_layers", -1)
        let mt = TestEnvironment.root.appendingPathComponent("Fixtures/mt")
        let bert = try AssayProcess.run(["bertscore", mt.appendingPathComponent("system-a.txt").path, "--ref",
                                         mt.appendingPathComponent("reference.txt").path, "--encoder", encoder.path])
        #expect(bert.status == 2 && bert.stderr.contains("num_hidden_layers"), "\(bert.stderr)")
    }

    @Test func aHostileModelInASuiteKeepsTheOtherResults() throws {
        let model = try Self.crafted("tiny-llama", "rms_norm_eps", -1.0)
        let directory = try TestEnvironment.temporaryDirectory()
        let text = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt").path
        let mt = TestEnvironment.root.appendingPathComponent("Fixtures/mt")
        let suite = """
            version: 1
            name: hostile
            models:
              bad: { path: \(model.path) }
            datasets:
              notes: { kind: text, path: \(text) }
              mt: { kind: parallel, hypotheses: \(mt.appendingPathComponent("system-a.txt").path), references: [\(mt.appendingPathComponent("reference.txt").path)] }
            evaluations:
              - { id: ppl, evaluator: perplexity, model: bad, dataset: notes, options: { context: 16 } }
              - { id: bleu, evaluator: bleu, dataset: mt }
            """
        try suite.write(to: directory.appendingPathComponent("suite.yaml"), atomically: true, encoding: .utf8)
        let result = try AssayProcess.run(["run", "suite.yaml", "--store", "s.sqlite", "--out", "reports"], in: directory)
        #expect(result.status == 2, "\(result.stderr)")
        let reports = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("reports/hostile").path)
        let json = try #require(reports.first { $0.hasSuffix(".json") })
        let text2 = try String(contentsOf: directory.appendingPathComponent("reports/hostile/\(json)"), encoding: .utf8)
        #expect(text2.contains("rms_norm_eps") && text2.contains("\"score\""), "\(text2.prefix(3000))")
    }
}

/// Every architecture's tiny GGUF through the commands people run on it: perplexity, generate,
/// bench and drift against an in-memory Q8_0 copy (issue: every architecture works everywhere).
struct ArchitectureCommandTests {
    @Test(arguments: ["tiny-llama3", "tiny-mistral", "tiny-qwen3", "tiny-phi3", "tiny-gemma", "tiny-gemma2", "tiny-gemma3",
                      "tiny-mixtral", "tiny-qwen2moe", "tiny-qwen3moe", "tiny-deepseek2", "tiny-deepseek3", "tiny-qwen2yarn"])
    func commandsRun(model name: String) throws {
        let model = TestEnvironment.root.appendingPathComponent("Fixtures/models/\(name).gguf").path
        let text = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt").path
        let perplexity = try AssayProcess.run(["perplexity", model, text, "--context", "32", "--chunks", "2", "--format", "json"])
        #expect(perplexity.status == 0 && perplexity.stdout.contains("\"perplexity\""), "\(name) perplexity: \(perplexity.stderr)")
        let generate = try AssayProcess.run(["generate", model, "Hello there", "--max-tokens", "4"])
        #expect(generate.status == 0, "\(name) generate: \(generate.stderr)")
        let bench = try AssayProcess.run(["bench", model, "-p", "8", "-n", "4", "-r", "1"])
        #expect(bench.status == 0 && bench.stdout.contains("tg4"), "\(name) bench: \(bench.stdout)\(bench.stderr)")
        let drift = try AssayProcess.run(["drift", "--reference", model, "--candidate-quantize", "q8_0", text, "--context", "32", "--chunks", "2"])
        #expect(drift.status == 0 && drift.stdout.contains("KLD"), "\(name) drift: \(drift.stdout)\(drift.stderr)")
    }
}
