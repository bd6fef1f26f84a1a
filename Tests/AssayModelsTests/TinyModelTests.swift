import AssayCheckpoint
import AssayTensor
import AssayModels
import AssayTestSupport
import Foundation
import Testing

/// Tiny generated checkpoints (scripts/fixtures/make_tiny_models.py): the same random weights as
/// GGUF and as a Hugging Face directory, against a NumPy float64 forward pass with Hugging Face
/// semantics (which transformers reproduces to 1e-7 on the same files).
struct TinyModelTests {
    struct Golden: Decodable { var tokens: [Int]; var logits: [[Double]] }
    static let goldens: [String: Golden] = {
        let url = Bundle.module.url(forResource: "Golden/tiny-models", withExtension: "json")!
        return try! JSONDecoder().decode([String: Golden].self, from: Data(contentsOf: url))
    }()
    static let models = TestEnvironment.root.appendingPathComponent("Fixtures/models")

    /// max |ours − reference| / max |reference|.
    func relativeError(_ logits: [Float], _ golden: Golden) -> Double {
        let reference = golden.logits.flatMap { $0 }
        let scale = reference.map(abs).max()!
        return zip(logits, reference).map { abs(Double($0) - $1) }.max()! / scale
    }

    @Test(arguments: ["tiny-llama", "tiny-qwen2"])
    func ggufAndSafetensorsMatchTheNumPyReference(name: String) throws {
        let golden = try #require(Self.goldens[name])
        let fromGGUF = try LlamaModel(contentsOf: Self.models.appendingPathComponent(name + ".gguf"))
        let fromHF = try LlamaModel(contentsOf: Self.models.appendingPathComponent(name))
        #expect(fromGGUF.configuration.architecture == fromHF.configuration.architecture)
        #expect(fromHF.configuration.ropeNeoX && fromGGUF.configuration.ropeNeoX == (name == "tiny-qwen2"))
        let a = fromGGUF.logits(golden.tokens), b = fromHF.logits(golden.tokens)
        #expect(a.count == golden.tokens.count * 96)
        let errorGGUF = relativeError(a, golden), errorHF = relativeError(b, golden)
        print("\(name): relative error GGUF \(errorGGUF), safetensors \(errorHF)")
        #expect(errorGGUF < 1e-4 && errorHF < 1e-4)
        #expect(zip(a, b).map { abs($0 - $1) }.max()! < 1e-4)

        // The KV-cache path (biases and NeoX rotation included) gives the chunk's rows.
        var cache = LlamaModel.KVCache(for: fromHF)
        var last: [Float] = []
        for token in golden.tokens { last = fromHF.forward([token], cache: &cache) }
        #expect(zip(last, b.suffix(96)).map { abs($0 - $1) }.max()! < 1e-4)
    }

    /// A copy of tiny-llama's directory with `config` edits.
    func editedCopy(_ edit: (inout [String: Any]) -> Void) throws -> URL {
        let directory = try TestEnvironment.temporaryDirectory("assay-tiny")
        let source = Self.models.appendingPathComponent("tiny-llama")
        try FileManager.default.copyItem(at: source.appendingPathComponent("model.safetensors"), to: directory.appendingPathComponent("model.safetensors"))
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as? [String: Any])
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: directory.appendingPathComponent("config.json"))
        return directory
    }

    @Test func mismatchedCheckpointsFailWithTheTensorName() throws {
        let more = try editedCopy { $0["num_hidden_layers"] = 3 }
        #expect(throws: ModelError.missingTensor(path: more.path, name: "model.layers.2.input_layernorm.weight")) { try LlamaModel(contentsOf: more) }
        let fewer = try editedCopy { $0["num_hidden_layers"] = 1 }
        do {
            _ = try LlamaModel(contentsOf: fewer)
            Issue.record("a checkpoint with unused tensors loaded")
        } catch let error as ModelError {
            guard case let .unusedTensors(_, names) = error else { Issue.record("\(error)"); return }
            #expect(names.count == 9 && names.allSatisfy { $0.hasPrefix("model.layers.1.") })
        }
        let wide = try editedCopy { $0["intermediate_size"] = 40 }
        #expect(throws: ModelError.wrongShape(path: wide.path, name: "model.layers.0.mlp.gate_proj.weight", expected: [40, 32], found: [48, 32])) {
            try LlamaModel(contentsOf: wide)
        }
        let other = try editedCopy { $0["model_type"] = "gpt_neox" }
        #expect(throws: ModelError.unsupportedArchitecture(path: other.appendingPathComponent("config.json").path, name: "gpt_neox", supported: LlamaModel.supportedArchitectures)) {
            try LlamaModel(contentsOf: other)
        }
        let dynamic = try editedCopy { $0["rope_scaling"] = ["rope_type": "dynamic", "factor": 4.0] }
        #expect(throws: ModelError.unsupportedRopeScaling(path: dynamic.appendingPathComponent("config.json").path, type: "dynamic")) {
            try LlamaModel(contentsOf: dynamic)
        }
        let untied = try editedCopy { $0["tie_word_embeddings"] = false }
        #expect(throws: ModelError.missingTensor(path: untied.path, name: "lm_head.weight")) { try LlamaModel(contentsOf: untied) }
    }

    /// Linear rope scaling divides positions by the factor: scaled positions 0, 2, 4, … with
    /// factor 2 equal unscaled positions 0, 1, 2, … on a rotation-only check.
    @Test func linearRopeScalingMultipliesPositions() {
        var scaled: [Float] = (0..<16).map { Float($0) * 0.1 }
        var plain = scaled
        Kernels.rope(&scaled, positions: [4, 6], heads: 1, headDimension: 8, rotaryDimension: 8, base: 10000, neox: true, positionScale: 0.5)
        Kernels.rope(&plain, positions: [2, 3], heads: 1, headDimension: 8, rotaryDimension: 8, base: 10000, neox: true)
        #expect(zip(scaled, plain).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}
