import AssayCheckpoint
import AssayModels
import AssayTestSupport
import Foundation
import Testing

/// Architectures beyond Llama and Qwen2 on tiny random checkpoints that transformers made from a
/// config, with the GGUF written by llama.cpp's own converter
/// (scripts/fixtures/make-tiny-architectures.sh): logits from both load paths against
/// transformers' float32 forward pass, and from the GGUF against llama.cpp's.
struct TinyArchitectureTests {
    struct Model: Decodable {
        var tokens: [Int], transformers: [[Double]]
        /// nil where llama.cpp cannot load the checkpoint (tiny-deepseek2: it reads a DeepSeek
        /// without a Q bottleneck only at V2-Lite's layer counts, 26 and 27).
        var llama_cpp: [[Double]]?
        /// DeepSeek's own inference code (deepseek3 only): scripts/fixtures/deepseek_reference_goldens.py.
        var deepseek_reference: [[Double]]?
    }
    struct Goldens: Decodable { var models: [String: Model] }
    static let goldens: Goldens = {
        let url = Bundle.module.url(forResource: "Golden/tiny-architectures", withExtension: "json")!
        return try! JSONDecoder().decode(Goldens.self, from: Data(contentsOf: url))
    }()
    static let models = TestEnvironment.root.appendingPathComponent("Fixtures/models")
    static let vocabulary = 272

    /// max |ours − reference| / max |reference| over the first `positions` rows.
    static func relativeError(_ logits: [Float], _ reference: [[Double]], positions: Int? = nil) -> Double {
        let rows = positions ?? reference.count
        let expected = reference.prefix(rows).flatMap { $0 }
        let scale = expected.map(abs).max()!
        return zip(logits.prefix(rows * vocabulary), expected).map { abs(Double($0) - $1) }.max()! / scale
    }

    static func argmax(_ row: ArraySlice<Float>) -> Int { row.indices.max { row[$0] < row[$1] }! - row.startIndex }

    @Test(arguments: ["llama3", "qwen3", "mistral", "phi3", "gemma", "gemma2", "gemma3", "mixtral", "qwen2moe", "qwen3moe", "deepseek3", "qwen2yarn", "deepseek2"])
    func logitsMatchTransformersAndLlamaCpp(name: String) throws {
        let golden = try #require(Self.goldens.models[name])
        let fromGGUF = try LlamaModel(contentsOf: Self.models.appendingPathComponent("tiny-\(name).gguf"))
        let fromHF = try LlamaModel(contentsOf: Self.models.appendingPathComponent("tiny-\(name)"))
        let gguf = fromGGUF.logits(golden.tokens), hf = fromHF.logits(golden.tokens)
        #expect(hf.count == golden.tokens.count * Self.vocabulary)
        // Mistral's window (8) is in config.json only: the GGUF runs without one, as llama.cpp does,
        // so it agrees with transformers on the first 8 positions and with llama.cpp everywhere.
        let windowed = name == "mistral" ? 8 : nil
        let hfError = Self.relativeError(hf, golden.transformers)
        let ggufError = Self.relativeError(gguf, golden.transformers, positions: windowed)
        // llama.cpp's logits come from an F32 copy of the GGUF with an f32 KV cache: f32 throughout.
        #expect(golden.llama_cpp != nil || name == "deepseek2", "\(name): no llama.cpp logits")
        let llamaError = golden.llama_cpp.map { Self.relativeError(gguf, $0) } ?? 0
        print("\(name): relative error safetensors \(hfError), GGUF \(ggufError) (vs transformers); GGUF \(llamaError) (vs llama.cpp)")
        // llama.cpp's CPU GELU rounds its input and output to f16 (a lookup table; `numerics: ggml`
        // does the same): Gemma's logits move by ~1e-3 from transformers' f32 GELU, which decides.
        let llamaTolerance = name.hasPrefix("gemma") ? 3e-3 : 1e-4
        #expect(hfError < 1e-4 && ggufError < 1e-4 && llamaError < llamaTolerance, "\(name)")
        if let reference = golden.deepseek_reference {
            // DeepSeek-V3's inference/model.py, the model's own code: the engine follows it.
            let referenceError = Self.relativeError(hf, reference), ggufReferenceError = Self.relativeError(gguf, reference)
            print("\(name): relative error vs DeepSeek's inference code: safetensors \(referenceError), GGUF \(ggufReferenceError)")
            #expect(referenceError < 1e-4 && ggufReferenceError < 1e-4)
        }
        // Greedy choices (teacher-forced) agree with transformers at every position.
        for position in 0..<golden.tokens.count {
            let row = hf[(position * Self.vocabulary)..<((position + 1) * Self.vocabulary)]
            let expected = golden.transformers[position].indices.max { golden.transformers[position][$0] < golden.transformers[position][$1] }!
            #expect(Self.argmax(row) == expected, "\(name) position \(position)")
        }
        // One token at a time through the KV cache gives the chunk's last row.
        var cache = LlamaModel.KVCache(for: fromHF)
        var last: [Float] = []
        for token in golden.tokens { last = fromHF.forward([token], cache: &cache) }
        #expect(zip(last, hf.suffix(Self.vocabulary)).map { abs($0 - $1) }.max()! < 1e-4)
    }

    /// Llama 3's per-frequency factors: the GGUF's `rope_freqs.weight` (llama.cpp's converter)
    /// and those computed from `rope_scaling` in config.json agree, and cover all three bands.
    @Test func llama3FrequencyFactorsFromBothFormats() throws {
        let gguf = try LlamaModel(contentsOf: Self.models.appendingPathComponent("tiny-llama3.gguf")).configuration
        let hf = try LlamaModel(contentsOf: Self.models.appendingPathComponent("tiny-llama3")).configuration
        let a = try #require(gguf.ropeFrequencyFactors), b = try #require(hf.ropeFrequencyFactors)
        #expect(a.count == 8 && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-6 * $1 }, "\(a) \(b)")
        #expect(a.first == 1 && a.last == 8 && a.contains { $0 > 1 && $0 < 8 })
        #expect(hf.slidingWindow == nil && gguf.headNorms == false)
        let qwen3 = try LlamaModel(contentsOf: Self.models.appendingPathComponent("tiny-qwen3")).configuration
        #expect(qwen3.headNorms && qwen3.headDimension == 32 && qwen3.ropeNeoX)
        let mistral = try LlamaModel(contentsOf: Self.models.appendingPathComponent("tiny-mistral")).configuration
        #expect(mistral.architecture == "mistral" && mistral.slidingWindow == 8)
    }

    /// Phi-3's and Gemma's settings read the same from both formats.
    @Test func phi3AndGemmaSettingsFromBothFormats() throws {
        for format in ["", ".gguf"] {
            let phi3 = try LlamaModel(contentsOf: Self.models.appendingPathComponent("tiny-phi3" + format)).configuration
            #expect(phi3.fusedProjections && phi3.rotaryDimension == 8 && phi3.headDimension == 16 && phi3.activation == .silu)
            let gemma = try LlamaModel(contentsOf: Self.models.appendingPathComponent("tiny-gemma" + format)).configuration
            #expect(gemma.embeddingScale == 8 && gemma.activation == .geluTanh && !gemma.postNorms && gemma.slidingWindow == nil)
            let gemma2 = try LlamaModel(contentsOf: Self.models.appendingPathComponent("tiny-gemma2" + format)).configuration
            #expect(gemma2.postNorms && gemma2.slidingWindow == 8 && gemma2.slidingLayers == [true, false]
                    && gemma2.attentionSoftCap == 50 && gemma2.finalSoftCap == 30 && gemma2.localRopeBase == nil)
            let gemma3 = try LlamaModel(contentsOf: Self.models.appendingPathComponent("tiny-gemma3" + format)).configuration
            #expect(gemma3.architecture == "gemma3" && gemma3.headNorms && gemma3.slidingLayers == [true, true, true, true, true, false]
                    && gemma3.localRopeBase == 10000 && gemma3.ropeBase == 1_000_000 && gemma3.finalSoftCap == nil)
        }
    }

    /// The mixtures' settings read the same from both formats; a quantized copy keeps the router
    /// as it is and stays close.
    @Test func mixtureSettingsFromBothFormats() throws {
        for format in ["", ".gguf"] {
            let mixtral = try LlamaModel(contentsOf: Self.models.appendingPathComponent("tiny-mixtral" + format)).configuration
            #expect(mixtral.experts == 4 && mixtral.expertsUsed == 2 && mixtral.normalizeExpertWeights && mixtral.expertFeedForward == nil)
            let qwen2 = try LlamaModel(contentsOf: Self.models.appendingPathComponent("tiny-qwen2moe" + format)).configuration
            #expect(qwen2.architecture == "qwen2moe" && qwen2.expertFeedForward == 32 && qwen2.sharedExpertFeedForward == 64 && !qwen2.normalizeExpertWeights)
            let qwen3 = try LlamaModel(contentsOf: Self.models.appendingPathComponent("tiny-qwen3moe" + format)).configuration
            #expect(qwen3.architecture == "qwen3moe" && qwen3.headNorms && qwen3.normalizeExpertWeights && qwen3.sharedExpertFeedForward == nil)
        }
        let model = try LlamaModel(contentsOf: Self.models.appendingPathComponent("tiny-qwen2moe.gguf"))
        let golden = try #require(Self.goldens.models["qwen2moe"])
        let quantized = try model.quantized(.q8_0)
        #expect(Self.relativeError(quantized.logits(golden.tokens), golden.transformers) < 0.05)
    }

    /// A Gemma config.json with an activation other than the tanh GELU is refused, not run wrong.
    @Test func gemmaWithAnotherActivationIsRefused() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = Self.models.appendingPathComponent("tiny-gemma")
        try FileManager.default.copyItem(at: source.appendingPathComponent("model.safetensors"), to: directory.appendingPathComponent("model.safetensors"))
        let config = try String(contentsOf: source.appendingPathComponent("config.json"), encoding: .utf8)
        try config.replacingOccurrences(of: "\"gelu_pytorch_tanh\"", with: "\"relu\"")
            .write(to: directory.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        #expect(throws: ModelError.unsupportedActivation(path: directory.appendingPathComponent("config.json").path, name: "relu", supported: "gelu_pytorch_tanh")) {
            _ = try LlamaModel(contentsOf: directory)
        }
        // The SiLU families refuse another activation too (found by probing: 'bogus' had run as SiLU).
        let llama = Self.models.appendingPathComponent("tiny-llama3")
        try FileManager.default.removeItem(at: directory.appendingPathComponent("model.safetensors"))
        try FileManager.default.copyItem(at: llama.appendingPathComponent("model.safetensors"), to: directory.appendingPathComponent("model.safetensors"))
        for item in try FileManager.default.contentsOfDirectory(atPath: llama.path) where item.hasPrefix("tokenizer") {
            try? FileManager.default.copyItem(at: llama.appendingPathComponent(item), to: directory.appendingPathComponent(item))
        }
        try String(contentsOf: llama.appendingPathComponent("config.json"), encoding: .utf8).replacingOccurrences(of: "\"silu\"", with: "\"bogus\"")
            .write(to: directory.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        #expect(throws: ModelError.unsupportedActivation(path: directory.appendingPathComponent("config.json").path, name: "bogus", supported: "silu")) {
            _ = try LlamaModel(contentsOf: directory)
        }
    }
}
