import AssayTestSupport
import Foundation
import Testing

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
