import AssayTestSupport
import Foundation
import Testing

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
