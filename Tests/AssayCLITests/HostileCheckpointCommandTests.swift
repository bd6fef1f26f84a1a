import AssayTestSupport
import Foundation
import Testing

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
