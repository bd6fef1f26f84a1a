import AssayCheckpoint
import AssayModels
import AssayTestSupport
import Foundation
import Testing

/// The Llama forward pass on SmolLM2-135M-Instruct Q4_1 against llama.cpp's logits for the same
/// tokens (scripts/goldens/smollm2_logits_goldens.py). llama.cpp quantizes activations to 8 bits
/// inside quantized matrix products while Assay multiplies dequantized f32 weights, so values
/// agree closely but not bit for bit: the test bounds the differences.
struct LlamaModelTests {
    struct Golden: Decodable {
        var tokens: [Int]
        var argmax: [Int]
        var top5: [[Int]]
        var next_logprob: [Double]
    }

    @Test func smolLM2LogitsAgreeWithLlamaCpp() throws {
        let url = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: try #require(Bundle.module.url(forResource: "Golden/smollm2-logits", withExtension: "json"))))
        let model = try LlamaModel(gguf: try GGUFFile(contentsOf: url))
        #expect(model.configuration.layers == 30 && model.configuration.heads == 9 && model.configuration.kvHeads == 3)
        let logits = model.logits(golden.tokens)
        let v = model.configuration.vocabulary
        var maxLogprobError = 0.0, sumLogprobError = 0.0
        var top1Agreement = 0
        for i in 0..<golden.tokens.count {
            let row = Array(logits[(i * v)..<((i + 1) * v)])
            let maximum = row.max()!
            let logSum = Double(maximum) + log(row.reduce(0.0) { $0 + exp(Double($1 - maximum)) })
            if i + 1 < golden.tokens.count {
                let error = abs(Double(row[golden.tokens[i + 1]]) - logSum - golden.next_logprob[i])
                maxLogprobError = max(maxLogprobError, error)
                sumLogprobError += error
            }
            let argmax = row.indices.max { row[$0] < row[$1] }!
            if argmax == golden.argmax[i] { top1Agreement += 1 }
            #expect(golden.top5[i].contains(argmax), "position \(i): our top token \(argmax) is not in llama.cpp's top 5")
        }
        print("max |Δ log p(next)| = \(maxLogprobError), mean \(sumLogprobError / Double(golden.tokens.count - 1)), top-1 agreement \(top1Agreement)/\(golden.tokens.count)")
        #expect(maxLogprobError < 0.25)
        #expect(top1Agreement >= golden.tokens.count - 1)
    }

    @Test func incompleteCheckpointIsRejectedWithTheMissingKey() throws {
        let file = try GGUFFile(contentsOf: TestEnvironment.root.appendingPathComponent("Fixtures/gguf/tiny.gguf"))
        #expect(throws: ModelError.missingMetadata(path: file.url.path, key: "llama.embedding_length")) { try LlamaModel(gguf: file) }
    }
}

/// Incremental decoding from the KV cache (GEMV) against a full recomputation, and greedy
/// generation against llama.cpp (scripts/goldens/smollm2_greedy_goldens.py).
struct GenerationTests {
    struct Golden: Decodable { var prompt: String; var prompt_tokens: [Int]; var generated: [Int] }

    @Test func cachedDecodingMatchesFullChunkAndLlamaCppGreedy() throws {
        let url = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: try #require(Bundle.module.url(forResource: "Golden/smollm2-greedy", withExtension: "json"))))
        let model = try LlamaModel(gguf: try GGUFFile(contentsOf: url))
        let v = model.configuration.vocabulary
        // Decode the prompt one token at a time; the last logits must equal the chunk's last row.
        var cache = LlamaModel.KVCache(for: model)
        var incremental: [Float] = []
        for token in golden.prompt_tokens { incremental = model.forward([token], cache: &cache) }
        let full = model.logits(golden.prompt_tokens)
        let lastRow = Array(full[((golden.prompt_tokens.count - 1) * v)...])
        let maxDifference = zip(incremental, lastRow).map { abs($0 - $1) }.max() ?? .infinity
        #expect(maxDifference < 1e-3, "GEMV/cache path differs from the GEMM chunk by \(maxDifference)")
        #expect(cache.count == golden.prompt_tokens.count)

        let backend = try InProcessBackend(modelAt: url)
        let generation = try backend.generateNow(golden.prompt, parameters: GenerationParameters(maxTokens: golden.generated.count))
        #expect(generation.promptTokens == golden.prompt_tokens)
        let generated = generation.tokens
        let agreeing = zip(generated, golden.generated).prefix { $0 == $1 }.count
        print("greedy: \(agreeing) of \(golden.generated.count) tokens agree with llama.cpp before the first difference")
        #expect(agreeing >= 12)
    }
}
