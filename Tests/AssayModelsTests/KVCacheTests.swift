import AssayCheckpoint
import AssayModels
import AssayTestSupport
import Foundation
import Testing

/// The f16 KV cache on SmolLM2-135M-Instruct Q4_1: a prompt as a chunk, then tokens one at a time
/// from the cache. With ggml numerics the keys and values are f16 already, so an f16 cache gives
/// the f32 cache's logits bit for bit in half the memory; with exact numerics it moves them by f16
/// rounding only.
struct KVCacheTests {
    static func run(_ model: LlamaModel, prompt: [Int], decode: [Int]) -> (logits: [[Float]], bytes: Int) {
        var cache = LlamaModel.KVCache(for: model)
        var logits = [model.forward(prompt, cache: &cache)]
        for token in decode { logits.append(model.forward([token], cache: &cache)) }
        return (logits, cache.bytes)
    }

    @Test func anF16CacheHalvesTheMemoryAndKeepsGGMLNumbersExactly() throws {
        let url = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        var model = try LlamaModel(gguf: try GGUFFile(contentsOf: url))
        let prompt = Array(1...40), decode = [17, 942, 3, 12_000, 5]
        let c = model.configuration
        let expectedValues = 2 * c.layers * (prompt.count + decode.count) * c.kvHeads * c.headDimension

        model.numerics = .ggml
        model.cacheType = .f32
        let ggml32 = Self.run(model, prompt: prompt, decode: decode)
        model.cacheType = .f16
        let ggml16 = Self.run(model, prompt: prompt, decode: decode)
        #expect(ggml32.bytes == 4 * expectedValues && ggml16.bytes == 2 * expectedValues)
        #expect(ggml16.logits.map { $0.map(\.bitPattern) } == ggml32.logits.map { $0.map(\.bitPattern) })

        model.numerics = .exact
        model.cacheType = .f32
        let exact32 = Self.run(model, prompt: prompt, decode: decode)
        model.cacheType = .f16
        let exact16 = Self.run(model, prompt: prompt, decode: decode)
        let differences = zip(exact32.logits.joined(), exact16.logits.joined()).map { Double(abs($0 - $1)) }
        let largest = differences.max() ?? .infinity, mean = differences.reduce(0, +) / Double(differences.count)
        print("exact numerics, f16 against f32 cache: largest logit change \(largest), mean \(mean)")
        // f16 keeps 11 significant bits: logits (about ±20 here) move by hundredths, at most a few tenths.
        #expect(largest > 0 && largest < 0.3 && mean < 0.02, "logit changes: largest \(largest), mean \(mean)")
        #expect(exact16.logits.last?.indices.max { exact16.logits.last![$0] < exact16.logits.last![$1] }
                == exact32.logits.last?.indices.max { exact32.logits.last![$0] < exact32.logits.last![$1] })
        // The default follows the numerics.
        #expect(LlamaModel.CacheType.default(for: .ggml) == .f16 && LlamaModel.CacheType.default(for: .exact) == .f32)
    }
}
