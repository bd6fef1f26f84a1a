import AssayTestSupport
import Foundation
import Testing

/// `assay perplexity --endpoint` and a suite's perplexity evaluation of a served model reach the
/// server's scoring; the shared test server (llama-cpp-python, SmolLM2 without BOS) cannot score
/// correctly, and both say why and what to do instead of printing a number.
struct ServedPerplexityCommandTests {
    @Test func servedModelWithoutAlignedLogProbabilitiesIsRefused() throws {
        let (endpoint, name) = try TestEnvironment.testServer()
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 40)
        try text.write(to: directory.appendingPathComponent("text.txt"), atomically: true, encoding: .utf8)

        let command = try AssayProcess.run(["perplexity", name, "text.txt", "--endpoint", endpoint.absoluteString, "--context", "64"], in: directory)
        #expect(command.status == 2 && command.stderr.contains("llama-cpp-python#1983")
                && command.stderr.contains("hint: start the server with --kv_overrides"), "\(command.stderr)")

        try """
            version: 1
            name: served-perplexity
            models:
              served: { endpoint: "\(endpoint.absoluteString)", model: \(name) }
            datasets:
              text: { kind: text, path: text.txt }
            evaluations:
              - id: ppl
                evaluator: perplexity
                model: served
                dataset: text
                options: { context: 64 }
            """.write(to: directory.appendingPathComponent("suite.yaml"), atomically: true, encoding: .utf8)
        let run = try AssayProcess.run(["run", "suite.yaml", "--store", "s.sqlite", "--out", "out"], in: directory)
        #expect(run.status == 2 && run.stderr.contains("llama-cpp-python#1983"), "\(run.stderr)")
    }
}
