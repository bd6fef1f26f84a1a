import AssayTestSupport
import Foundation
import Testing

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

/// `run --model NAME=PATH` checks the path as a suite's `path` is checked (found in review,
/// 2026-12-07): /dev/zero had been hashed without end, and a directory without config.json had
/// failed the evaluation after the run started.
struct ModelOverrideTests {
    @Test func overridesAreCheckedBeforeTheRun() throws {
        _ = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("empty"), withIntermediateDirectories: true)
        let suite = TestEnvironment.root.appendingPathComponent("suites/examples/perplexity.yaml").path
        let environment = ["ASSAY_DATA": try TestEnvironment.sharedData("").path]
        for (path, message) in [("/dev/zero", "--model candidate=/dev/zero: /dev/zero is a device, not a file"),
                                ("empty", "is a directory without config.json"), ("nope.gguf", "model not found: ")] {
            let result = try AssayProcess.run(["run", suite, "--store", "s.sqlite", "--out", "out", "--model", "candidate=\(path)"],
                                              in: directory, environment: environment)
            #expect(result.status == 2 && result.stderr.contains(message), "\(path): \(result.status) \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("s.sqlite").path), "\(path): a run was recorded")
        }
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
