import AssayCheckpoint
import AssayMetrics
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
        guard let url = TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf") else { return }
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

/// `mode: chunked` perplexity on WikiText-2 against llama-perplexity's definition computed from
/// llama.cpp's logits (scripts/goldens/smollm2_perplexity_goldens.py): same tokens scored, PPL within
/// 0.5 % (llama.cpp quantizes activations in quantized products), ± within 5 %.
struct ChunkedPerplexityTests {
    struct Golden: Decodable { var n_ctx: Int; var chunks: Int; var tokens_total: Int; var tokens_scored: Int; var perplexity: Double; var stderr: Double }

    @Test func wikiText2FirstChunks() throws {
        guard let url = TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"),
              let text = TestEnvironment.sharedData("wikitext2/wiki.test.raw") else { return }
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: try #require(Bundle.module.url(forResource: "Golden/smollm2-perplexity", withExtension: "json"))))
        let model = try LlamaModel(gguf: try GGUFFile(contentsOf: url))
        guard case let .bytePairEncoding(tokenizer) = try ModelTokenizer.load(url) else { Issue.record("not BPE"); return }
        var bytes = try Data(contentsOf: text)
        if bytes.last == 0x0A { bytes.removeLast() }
        let tokens = tokenizer.encode(String(decoding: bytes, as: UTF8.self), addSpecial: true)
        #expect(tokens.count == golden.tokens_total)
        let result = try ChunkedPerplexity.run(model: model, tokens: tokens, context: golden.n_ctx, maxChunks: golden.chunks,
                                               bos: tokenizer.addBOS ? tokenizer.bos : nil)
        #expect(result.accumulator.count == golden.tokens_scored)
        let ppl = try #require(result.accumulator.perplexity), stderr = try #require(result.accumulator.standardError)
        print("PPL \(ppl) vs llama.cpp \(golden.perplexity); ± \(stderr) vs \(golden.stderr)")
        #expect(abs(ppl / golden.perplexity - 1) < 0.005)
        #expect(abs(stderr / golden.stderr - 1) < 0.05)
    }
}

struct PerplexityAccumulatorTests {
    @Test func llamaPerplexityFormulas() {
        var accumulator = PerplexityAccumulator()
        for nll in [1.0, 2.0, 3.0] { accumulator.add(nll) }
        #expect(abs(accumulator.perplexity! - exp(2.0)) < 1e-12)
        // var = (14/3 − 4) = 2/3; ± = sqrt((2/3)/2)·e² = sqrt(1/3)·e²
        #expect(abs(accumulator.standardError! - (1.0 / 3.0).squareRoot() * exp(2.0)) < 1e-12)
        #expect(PerplexityAccumulator().perplexity == nil)
    }
}

/// Incremental decoding from the KV cache (GEMV) against a full recomputation, and greedy
/// generation against llama.cpp (scripts/goldens/smollm2_greedy_goldens.py).
struct GenerationTests {
    struct Golden: Decodable { var prompt: String; var prompt_tokens: [Int]; var generated: [Int] }

    @Test func cachedDecodingMatchesFullChunkAndLlamaCppGreedy() throws {
        guard let url = TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf") else { return }
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

/// `mode: chunked`, context 512, against llama-perplexity's procedure on llama.cpp's logits for the
/// whole WikiText-2 test file (scripts/goldens/make-perplexity-goldens.sh), on an F16 copy of the
/// Q4_1 weights and on the Q4_1 file itself. The goldens keep Σ NLL and Σ NLL² per chunk, so the
/// test compares the first 8 chunks (the whole file is compared in docs/engine.md): exact f32
/// numerics within 0.1 % of the F16 run, `numerics: ggml` (activations rounded as llama.cpp's
/// quantized products round them) within 0.25 % of the Q4_1 run, the ± within 1 %.
struct LlamaPerplexityGoldenTests {
    struct Golden: Decodable {
        var n_ctx: Int, tokens_total: Int, chunks: Int
        var per_chunk_nll_sum_sumsq_count: [[Double]]

        /// PPL and ± over the first `n` chunks, as llama-perplexity computes them.
        func prefix(_ n: Int) -> (ppl: Double, stderr: Double, count: Int) {
            let rows = per_chunk_nll_sum_sumsq_count.prefix(n)
            let count = rows.reduce(0) { $0 + $1[2] }, sum = rows.reduce(0) { $0 + $1[0] }, squares = rows.reduce(0) { $0 + $1[1] }
            let mean = sum / count, ppl = exp(mean)
            return (ppl, ((squares / count - mean * mean) / (count - 1)).squareRoot() * ppl, Int(count))
        }
    }

    @Test func wikiText2Context512AgainstLlamaCpp() throws {
        guard let url = TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"),
              let text = TestEnvironment.sharedData("wikitext2/wiki.test.raw") else { return }
        func golden(_ name: String) throws -> Golden {
            try JSONDecoder().decode(Golden.self, from: Data(contentsOf: try #require(Bundle.module.url(forResource: "Golden/\(name)", withExtension: "json"))))
        }
        let f16 = try golden("smollm2-wikitext2-512-f16"), q41 = try golden("smollm2-wikitext2-512-q4_1")
        #expect(f16.chunks == 595 && q41.chunks == 595)
        let chunks = 8
        var model = try LlamaModel(contentsOf: url)
        let tokenizer = try CausalTokenizer(loading: url)
        let tokens = tokenizer.encode(PerplexityRunner.droppingOneNewline(String(decoding: try Data(contentsOf: text), as: UTF8.self)), parseSpecial: false)
        #expect(tokens.count == f16.tokens_total)
        let a = f16.prefix(chunks), b = q41.prefix(chunks)
        let exact = try ChunkedPerplexity.run(model: model, tokens: tokens, context: 512, maxChunks: chunks, bos: tokenizer.addedBOS)
        model.numerics = .ggml
        let ggml = try ChunkedPerplexity.run(model: model, tokens: tokens, context: 512, maxChunks: chunks, bos: tokenizer.addedBOS)
        let ppl = try #require(exact.accumulator.perplexity), stderr = try #require(exact.accumulator.standardError)
        let pplGGML = try #require(ggml.accumulator.perplexity)
        #expect(exact.accumulator.count == a.count && ggml.accumulator.count == b.count)
        print("context 512, \(chunks) chunks: exact \(ppl) ± \(stderr) vs llama.cpp F16 \(a.ppl) ± \(a.stderr); ggml \(pplGGML) vs Q4_1 \(b.ppl)")
        #expect(abs(ppl / a.ppl - 1) < 0.001)
        #expect(abs(stderr / a.stderr - 1) < 0.01)
        #expect(abs(pplGGML / b.ppl - 1) < 0.0025)
    }
}
