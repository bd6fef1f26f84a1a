import AssayCheckpoint
import AssayModels
import AssayTestSupport
import AssayTokenizer
import Foundation
import Testing

/// Values inside otherwise valid checkpoints that used to end in a trap (division by a zero head
/// count, a negative range, an allocation of 2^62 floats) or in a NaN perplexity: each is refused
/// with the key that holds it. The files are tiny-llama's and tiny-roberta's with one value changed.
struct HostileMetadataTests {
    static let models = TestEnvironment.root.appendingPathComponent("Fixtures/models")

    /// `model`.gguf (tiny-llama's by default) with metadata `edits` applied (nil removes the key).
    static func craftedGGUF(_ edits: [String: GGUFValue?], model: String = "tiny-llama") throws -> URL {
        let file = try GGUFFile(contentsOf: models.appendingPathComponent("\(model).gguf"))
        var writer = GGUFWriter(metadata: file.metadata)
        for (key, value) in edits {
            if let value { writer.set(key, value) } else { writer.metadata.removeAll { $0.key == key } }
        }
        writer.tensors = file.tensors.map { info in
            GGUFWriter.Tensor(name: info.name, dimensions: info.dimensions, type: info.type, bytes: file.withBytes(of: info) { Array($0) })
        }
        let url = try TestEnvironment.temporaryDirectory("assay-hostile").appendingPathComponent("crafted.gguf")
        try writer.write(to: url)
        return url
    }

    /// A copy of the Hugging Face directory `name` with `config.json` edited.
    static func craftedDirectory(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> URL {
        let source = models.appendingPathComponent(name), directory = try TestEnvironment.temporaryDirectory("assay-hostile")
        for item in try FileManager.default.contentsOfDirectory(atPath: source.path) where item != "config.json" {
            try FileManager.default.copyItem(at: source.appendingPathComponent(item), to: directory.appendingPathComponent(item))
        }
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as? [String: Any])
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: directory.appendingPathComponent("config.json"))
        return directory
    }

    /// The key a thrown error names, or a failure.
    static func invalidKey(_ body: () throws -> Void) -> String? {
        do {
            try body()
        } catch let ModelError.invalidMetadata(_, key, _, _) {
            return key
        } catch let ModelError.missingMetadata(_, key) {
            return key
        } catch let CheckpointError.invalidHeader(_, message) where message.hasPrefix("'") {
            // config.json's value of the wrong kind (1e30 is no whole number): "'key' is …".
            return String(message.dropFirst().prefix { $0 != "'" })
        } catch {
            Issue.record("unexpected error: \(error)")
            return nil
        }
        Issue.record("no error")
        return nil
    }

    @Test(arguments: [
        ("llama.attention.head_count", GGUFValue.uint32(0)),
        ("llama.block_count", .int32(-1)),
        ("llama.block_count", .uint32(1 << 31)),
        ("llama.attention.key_length", .uint64(1 << 62)),
        ("llama.rope.dimension_count", .uint32(1024)),
        ("llama.attention.layer_norm_rms_epsilon", .float32(.nan)),
        ("llama.rope.freq_base", .float32(0)),
        ("llama.embedding_length", .uint32(0)),
        ("llama.feed_forward_length", .int64(-5)),
        ("llama.attention.head_count_kv", .uint32(3)),
        ("llama.context_length", .int32(-1)),
    ])
    func ggufValuesAreCheckedBeforeUse(key: String, value: GGUFValue) throws {
        let url = try Self.craftedGGUF([key: value])
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: url) } == key)
    }

    /// A GGUF without its RMSNorm epsilon is refused naming the key, as llama.cpp's loader refuses
    /// it (it had been read as 1e-5, where a Qwen or Llama 3 checkpoint means 1e-6: another model).
    @Test func aMissingEpsilonIsNamedNotDefaulted() throws {
        let url = try Self.craftedGGUF(["llama.attention.layer_norm_rms_epsilon": nil])
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: url) } == "llama.attention.layer_norm_rms_epsilon")
    }

    /// A value present with the wrong type is named as such, never read as absent (and so never
    /// replaced by a default: a rope base written as a string used to become 10000).
    @Test func wrongTypesAreNamedNotTreatedAsAbsent() throws {
        for (key, value, shown) in [("llama.attention.head_count", GGUFValue.string("4"), "\"4\""),
                                    ("llama.attention.head_count_kv", .float32(2.5), "2.5"),
                                    ("llama.rope.freq_base", .string("10000"), "\"10000\""),
                                    ("llama.rope.scaling.type", .uint32(2), "2"),
                                    ("llama.expert_count", .string("8"), "\"8\""),
                                    // Beyond Int64 (shown as "?" until 2026-12-07).
                                    ("llama.block_count", .uint64(.max), "18446744073709551615")] {
            let url = try Self.craftedGGUF([key: value])
            do {
                _ = try LlamaModel(contentsOf: url)
                Issue.record("\(key): no error")
            } catch let error as ModelError {
                let expected = key.hasSuffix("freq_base") ? "a number" : key.hasSuffix("scaling.type") ? "a string"
                    : key.hasSuffix("block_count") ? "a whole number up to \(Int64.max)" : "a whole number"
                #expect(error.errorDescription == "\(url.path): metadata '\(key)' is \(shown): expected \(expected)")
            }
        }
        for (key, value, shown) in [("num_attention_heads", "4" as Any, "\"4\""), ("rope_theta", "1e4" as Any, "\"1e4\""),
                                    ("num_key_value_heads", 2.5 as Any, "2.5"), ("tie_word_embeddings", 1 as Any, "1"),
                                    ("rope_scaling", "linear" as Any, "\"linear\"")] {
            let directory = try Self.craftedDirectory("tiny-llama") { $0[key] = value }
            let config = directory.appendingPathComponent("config.json").path
            do {
                _ = try LlamaModel(contentsOf: directory)
                Issue.record("\(key): no error")
            } catch let error as CheckpointError {
                #expect(error.errorDescription?.hasPrefix("\(config): '\(key)' is \(shown); expected ") == true, "\(error)")
                // config.json's hints speak of safetensors, not of GGUF converters.
                #expect(error.recoverySuggestion?.contains("GGUF") == false, "\(error.recoverySuggestion ?? "")")
            }
        }
        // A required key that is absent is "missing", and a config.json's is a key, not metadata.
        let directory = try Self.craftedDirectory("tiny-llama") { $0["hidden_size"] = nil }
        do {
            _ = try LlamaModel(contentsOf: directory)
            Issue.record("no error")
        } catch let error as ModelError {
            #expect(error.errorDescription == "\(directory.appendingPathComponent("config.json").path): key 'hidden_size' is missing")
        }
    }

    @Test func headsThatDoNotDivideTheWidthAreRefused() throws {
        // Without key_length the head dimension is width / heads: 7 heads do not divide it.
        let url = try Self.craftedGGUF(["llama.attention.head_count": .uint32(7), "llama.attention.key_length": nil])
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: url) } == "llama.attention.head_count")
    }

    /// A SentencePiece vocabulary that cannot spell a byte of UTF-8 text and names no unknown token
    /// is refused (found by probing): its text had lost the characters silently, and perplexity had
    /// scored what was left. With an unknown token, such a piece becomes that token.
    @Test func aVocabularyThatCannotSpellEveryByteIsRefused() throws {
        let file = try GGUFFile(contentsOf: Self.models.appendingPathComponent("tiny-llama3.gguf"))
        let tokens = try #require(file.value("tokenizer.ggml.tokens")?.array)
        let byte = try #require(tokens.firstIndex { $0.string == "<0xE2>" })
        func crafted(unknown: UInt32?) throws -> URL {
            var renamed = tokens
            renamed[byte] = .string("<renamed>")
            return try Self.craftedGGUF(["tokenizer.ggml.tokens": .array(renamed), "tokenizer.ggml.unknown_token_id": unknown.map { .uint32($0) }],
                                        model: "tiny-llama3")
        }
        do {
            _ = try CausalTokenizer(loading: try crafted(unknown: nil))
            Issue.record("loaded")
        } catch let error as TokenizerError {
            #expect(error.localizedDescription.contains("no token for the byte 0xE2 (<0xE2>) and no tokenizer.ggml.unknown_token_id"), "\(error)")
        }
        let tokenizer = try CausalTokenizer(loading: try crafted(unknown: 0))
        #expect(tokenizer.encode("€", addSpecial: false, parseSpecial: false).contains(0))
    }

    /// A config.json that is not JSON says where, and why when it holds NaN (which Python's
    /// json.dump writes); it had read "config.json is not a JSON object".
    @Test func aConfigThatIsNotJSONSaysWhere() throws {
        let url = try Self.craftedDirectory("tiny-llama") { $0["rms_norm_eps"] = "PLACEHOLDER" }
        let config = url.appendingPathComponent("config.json")
        try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "\"PLACEHOLDER\"", with: "NaN").write(to: config, atomically: true, encoding: .utf8)
        do {
            _ = try HFConfig(contentsOf: config)
            Issue.record("loaded")
        } catch let error as CheckpointError {
            let text = error.localizedDescription
            #expect(text.contains("not valid JSON: Invalid value around character") && text.contains("NaN and Infinity are not JSON"), "\(text)")
        }
    }

    @Test func specialTokenIDsMustBeInTheVocabulary() throws {
        let file = try GGUFFile(contentsOf: Self.models.appendingPathComponent("tiny-llama.gguf"))
        let count = try #require(file.value("tokenizer.ggml.tokens")?.array?.count)
        let url = try Self.craftedGGUF(["tokenizer.ggml.bos_token_id": .uint32(UInt32(count))])
        #expect(throws: TokenizerError.self) { _ = try CausalTokenizer(loading: url) }
    }

    @Test(arguments: [
        ("num_attention_heads", 0.0),
        ("num_hidden_layers", -1),
        ("hidden_size", 1e30),
        ("rms_norm_eps", -1.0),
        ("rope_theta", 0),
        ("vocab_size", 0),
    ])
    func configValuesAreCheckedBeforeUse(key: String, value: Double) throws {
        let directory = try Self.craftedDirectory("tiny-llama") { $0[key] = value }
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: directory) } == key)
    }

    @Test func configHeadsThatDoNotDivideTheWidthAreRefused() throws {
        let directory = try Self.craftedDirectory("tiny-llama") { $0["num_attention_heads"] = 7; $0["head_dim"] = nil }
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: directory) } == "num_attention_heads")
    }

    @Test(arguments: [("num_attention_heads", 0.0), ("num_hidden_layers", -1), ("num_attention_heads", 5), ("pad_token_id", 100),
                      ("layer_norm_eps", 0), ("max_position_embeddings", 1), ("pad_token_id", 62)])
    func encoderConfigValuesAreCheckedBeforeUse(key: String, value: Double) throws {
        let directory = try Self.craftedDirectory("tiny-roberta") { $0[key] = value }
        #expect(Self.invalidKey { _ = try BertEncoder(contentsOf: directory) } == key)
    }

    /// A value past Float's range is named as written with the limit it breaks (it had been
    /// converted first and refused as "inf").
    @Test func anEncoderEpsilonPastFloatsRangeIsNamedAsWritten() throws {
        let directory = try Self.craftedDirectory("tiny-roberta") { $0["layer_norm_eps"] = 1e300 }
        #expect(throws: ModelError.invalidMetadata(path: directory.appendingPathComponent("config.json").path, key: "layer_norm_eps",
                                                   value: "1e+300", reason: "it must be at most 1.0")) {
            _ = try BertEncoder(contentsOf: directory)
        }
    }

    /// The settings the newer architectures read: Llama 3's rope scaling (both formats), Mistral's
    /// window and Qwen's sliding-window switch.
    @Test func ropeScalingAndWindowsAreCheckedBeforeUse() throws {
        func llama3(_ edit: @escaping (inout [String: Any]) -> Void) throws -> URL {
            try Self.craftedDirectory("tiny-llama3") { config in
                var scaling = config["rope_scaling"] as? [String: Any] ?? [:]
                edit(&scaling)
                config["rope_scaling"] = scaling
            }
        }
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: try llama3 { $0["high_freq_factor"] = 1.0 }) } == "rope_scaling.high_freq_factor")
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: try llama3 { $0["factor"] = 0.0 }) } == "rope_scaling.factor")
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: try llama3 { $0["original_max_position_embeddings"] = -1 }) }
                == "rope_scaling.original_max_position_embeddings")
        let window = try Self.craftedDirectory("tiny-mistral") { $0["sliding_window"] = 0 }
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: window) } == "sliding_window")
        let qwen = try Self.craftedDirectory("tiny-qwen3") { $0["use_sliding_window"] = true }
        #expect(throws: ModelError.unsupportedSetting(path: qwen.appendingPathComponent("config.json").path, key: "use_sliding_window", value: "true",
                                                     supported: "Qwen models run with full attention in every layer")) {
            _ = try LlamaModel(contentsOf: qwen)
        }
        let longrope = try Self.craftedDirectory("tiny-llama3") { $0["rope_scaling"] = ["rope_type": "longrope", "factor": 4.0] }
        #expect(throws: ModelError.unsupportedRopeScaling(path: longrope.appendingPathComponent("config.json").path, type: "longrope")) {
            _ = try LlamaModel(contentsOf: longrope)
        }
        // YaRN's numbers.
        let yarnFactor = try Self.craftedDirectory("tiny-qwen2yarn") { $0["rope_scaling"] = ["type": "yarn", "factor": 0.0, "original_max_position_embeddings": 64] }
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: yarnFactor) } == "rope_scaling.factor")
        let yarnOriginal = try Self.craftedDirectory("tiny-qwen2yarn") { $0["rope_scaling"] = ["type": "yarn", "factor": 4.0, "original_max_position_embeddings": -5] }
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: yarnOriginal) } == "rope_scaling.original_max_position_embeddings")
    }

    /// Phi-3's and Gemma's settings, from config.json and from GGUF metadata.
    @Test(arguments: [
        ("tiny-gemma2", "attn_logit_softcapping", 0.0), ("tiny-gemma2", "final_logit_softcapping", -30.0),
        ("tiny-gemma2", "sliding_window", -1), ("tiny-gemma2", "query_pre_attn_scalar", 0),
        ("tiny-gemma3", "rope_local_base_freq", 0), ("tiny-gemma3", "sliding_window", 1e12),
        ("tiny-phi3", "partial_rotary_factor", 2),
    ])
    func phi3AndGemmaConfigValuesAreCheckedBeforeUse(model: String, key: String, value: Double) throws {
        let directory = try Self.craftedDirectory(model) { $0[key] = value }
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: directory) } == key)
    }

    /// The mixtures' numbers: experts, experts per token, expert widths; layers that are not
    /// mixtures are refused rather than run as one.
    @Test(arguments: [
        ("tiny-mixtral", "num_local_experts", 0.0), ("tiny-mixtral", "num_experts_per_tok", 5),
        ("tiny-qwen2moe", "moe_intermediate_size", -1), ("tiny-qwen2moe", "shared_expert_intermediate_size", 0),
        ("tiny-qwen3moe", "num_experts", 1e9),
    ])
    func mixtureConfigValuesAreCheckedBeforeUse(model: String, key: String, value: Double) throws {
        let directory = try Self.craftedDirectory(model) { $0[key] = value }
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: directory) } == key)
    }

    /// DeepSeek's latent-attention and routing numbers.
    @Test(arguments: [
        ("kv_lora_rank", 0.0), ("qk_rope_head_dim", 7), ("v_head_dim", -1), ("n_group", 3), ("topk_group", 3),
        ("routed_scaling_factor", -1), ("first_k_dense_replace", 3), ("n_shared_experts", 9),
    ])
    func deepSeekConfigValuesAreCheckedBeforeUse(key: String, value: Double) throws {
        let directory = try Self.craftedDirectory("tiny-deepseek3") { $0[key] = value }
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: directory) } == key)
    }

    /// DeepSeek's latent-attention sizes and expert width have no default that could be right: a
    /// file without one is refused naming the key as missing (they had been read as -1, and the
    /// error said "is -1"). A head length out of range is shown as written, not less its rope part.
    @Test func missingDeepSeekSizesAreNamedAsMissing() throws {
        for (removed, named) in [(["deepseek2.rope.dimension_count"], "deepseek2.rope.dimension_count"),
                                 (["deepseek2.attention.kv_lora_rank"], "deepseek2.attention.kv_lora_rank"),
                                 (["deepseek2.expert_feed_forward_length"], "deepseek2.expert_feed_forward_length"),
                                 (["deepseek2.attention.key_length_mla", "deepseek2.attention.key_length"], "deepseek2.attention.key_length_mla"),
                                 (["deepseek2.attention.value_length_mla", "deepseek2.attention.value_length"], "deepseek2.attention.value_length_mla")] {
            let url = try Self.craftedGGUF(Dictionary(uniqueKeysWithValues: removed.map { ($0, GGUFValue?.none) }), model: "tiny-deepseek3")
            #expect(throws: ModelError.missingMetadata(path: url.path, key: named)) { _ = try LlamaModel(contentsOf: url) }
        }
        let far = try Self.craftedGGUF(["deepseek2.attention.key_length_mla": .int64(.max)], model: "tiny-deepseek3")
        #expect(throws: ModelError.invalidMetadata(path: far.path, key: "deepseek2.attention.key_length_mla", value: "\(Int64.max)",
                                                   reason: "it must be at most 8192")) {
            _ = try LlamaModel(contentsOf: far)
        }
        for key in ["kv_lora_rank", "moe_intermediate_size", "qk_rope_head_dim"] {
            let directory = try Self.craftedDirectory("tiny-deepseek3") { $0.removeValue(forKey: key) }
            #expect(throws: ModelError.missingMetadata(path: directory.appendingPathComponent("config.json").path, key: key)) {
                _ = try LlamaModel(contentsOf: directory)
            }
        }
    }

    @Test func mixturesWithDenseLayersAreRefused() throws {
        let dense = try Self.craftedDirectory("tiny-qwen3moe") { $0["mlp_only_layers"] = [1] }
        #expect(throws: ModelError.unsupportedSetting(path: dense.appendingPathComponent("config.json").path, key: "mlp_only_layers", value: "1 layers",
                                                     supported: "none: every layer a mixture of experts")) {
            _ = try LlamaModel(contentsOf: dense)
        }
        let step = try Self.craftedDirectory("tiny-qwen2moe") { $0["decoder_sparse_step"] = 2 }
        #expect(throws: ModelError.self) { _ = try LlamaModel(contentsOf: step) }
    }

    @Test func gemmaGGUFValuesAreCheckedBeforeUse() throws {
        for (model, key, value) in [("tiny-gemma2", "gemma2.attn_logit_softcapping", GGUFValue.float32(.nan)),
                                    ("tiny-gemma2", "gemma2.attention.sliding_window", .uint32(0xFFFF_FFFF)),
                                    ("tiny-gemma3", "gemma3.rope.freq_base_swa", .float32(-1)),
                                    ("tiny-qwen2moe", "qwen2moe.expert_used_count", .uint32(5)),
                                    ("tiny-mixtral", "llama.expert_count", .uint32(2000)),
                                    ("tiny-deepseek3", "deepseek2.expert_gating_func", .uint32(7)),
                                    ("tiny-deepseek3", "deepseek2.attention.kv_lora_rank", .uint32(0)),
                                    ("tiny-deepseek3", "deepseek2.expert_group_used_count", .uint32(3)),
                                    ("tiny-qwen2yarn", "qwen2.rope.scaling.factor", .float32(.nan)),
                                    ("tiny-qwen2yarn", "qwen2.rope.scaling.original_context_length", .uint32(0))] {
            #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: try Self.craftedGGUF([key: value], model: model)) } == key, "\(key)")
        }
        let layers = try Self.craftedDirectory("tiny-gemma3") { $0["layer_types"] = ["sliding_attention"] }
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: layers) } == "layer_types")
    }

    /// `rope_freqs.weight` in a GGUF: one positive factor per rotated pair, or the file is refused.
    @Test func ropeFrequencyTensorIsChecked() throws {
        let file = try GGUFFile(contentsOf: Self.models.appendingPathComponent("tiny-llama3.gguf"))
        func crafted(_ values: [Float]) throws -> URL {
            var writer = GGUFWriter(metadata: file.metadata)
            writer.tensors = file.tensors.map { info in
                info.name == "rope_freqs.weight"
                    ? GGUFWriter.Tensor(name: info.name, dimensions: [values.count], type: .f32, bytes: values.withUnsafeBytes { Array($0) })
                    : GGUFWriter.Tensor(name: info.name, dimensions: info.dimensions, type: info.type, bytes: file.withBytes(of: info) { Array($0) })
            }
            let url = try TestEnvironment.temporaryDirectory("assay-hostile").appendingPathComponent("crafted.gguf")
            try writer.write(to: url)
            return url
        }
        let zero = try crafted([1, 1, 1, 0, 8, 8, 8, 8])
        #expect(Self.invalidKey { _ = try LlamaModel(contentsOf: zero) } == "rope_freqs.weight")
        let short = try crafted([1, 8])
        #expect(throws: ModelError.wrongShape(path: short.path, name: "rope_freqs.weight", expected: [8], found: [2])) {
            _ = try LlamaModel(contentsOf: short)
        }
    }
}
