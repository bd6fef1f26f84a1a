import AssayTestSupport
import Foundation
import Testing

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
        #expect(misuse.status == 64 && misuse.stderr.contains("--split, --stride and --prefix-token apply to --mode rolling"))
        // Options that would be ignored are refused: chunks in rolling mode, in-process arithmetic for a served model.
        let chunks = try AssayProcess.run(["perplexity", model.path, jsonl.path, "--mode", "rolling", "--chunks", "3"])
        #expect(chunks.status == 64 && chunks.stderr.contains("--chunks applies to --mode chunked"), "\(chunks.stderr)")
        let served = try AssayProcess.run(["perplexity", "m", jsonl.path, "--endpoint", "http://127.0.0.1:9/v1", "--numerics", "ggml"])
        #expect(served.status == 64 && served.stderr.contains("--numerics and --cache-type apply to a model run in-process"), "\(served.stderr)")
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

    /// Interrupted while a served model's first requests are still out (a server that answers
    /// /v1/models and then stalls): exit 130 with what happened, not "CancellationError error 1"
    /// and exit 2 (found by probing, 2026-12-07).
    @Test func interruptedBeforeTheFirstChunkExits130() throws {
        let script = """
            import http.server, json, sys, time
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    body = json.dumps({"data": [{"id": "m", "max_model_len": 4096}]}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def do_POST(self):
                    time.sleep(60)
                def log_message(self, *args): pass
            http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
            """
        let server = try ChildServer.start(python: "python3", arguments: ["-c", script, "{port}"])
        defer { withExtendedLifetime(server) {} }
        let text = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt").path
        let running = try AssayProcess.start(["perplexity", "m", text, "--endpoint", "http://127.0.0.1:\(server.port)/v1", "--context", "64"])
        Thread.sleep(forTimeInterval: 1.5)
        kill(running.process.processIdentifier, SIGTERM)
        let stderr = String(decoding: running.errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        running.process.waitUntilExit()
        #expect(running.process.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("interrupted before any chunk was scored") && !stderr.contains("CancellationError"), "\(stderr)")
    }
}
