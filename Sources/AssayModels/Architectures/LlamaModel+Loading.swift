import AssayCheckpoint
import AssayTensor
import Foundation

/// The two checkpoint formats the Llama family loads from: GGUF metadata and tensors, and a
/// Hugging Face directory (`config.json` + safetensors). Both check every hyper-parameter
/// (`Configuration.checked`) before assembling the model through `WeightSource`.
extension LlamaModel {
    /// Loads a Llama- or Qwen2-architecture GGUF file: weight matrices stay in place in the mapped
    /// file, in their stored types; norms and biases are read as f32.
    /// - Throws: ``ModelError`` for another architecture, missing metadata, unsupported rope
    ///   scaling, or a missing, unused or mis-shaped tensor.
    public init(gguf file: GGUFFile) throws {
        let path = file.url.path
        let arch = file.value("general.architecture")?.string ?? "?"
        guard Self.supportedArchitectures.contains(arch) else {
            throw ModelError.unsupportedArchitecture(path: path, name: arch, supported: Self.supportedArchitectures)
        }
        // A value present with the wrong type is an error naming it, never read as absent.
        func optionalInt(_ key: String) throws -> Int? {
            guard let value = file.value("\(arch).\(key)") else { return nil }
            guard let v = value.integer.flatMap({ Int(exactly: $0) }) else {
                let tooLarge = if case .uint64 = value { true } else { false }
                throw ModelError.invalidMetadata(path: path, key: "\(arch).\(key)", value: value.description,
                                                 reason: tooLarge ? "expected a whole number up to \(Int64.max)" : "expected a whole number")
            }
            return v
        }
        func int(_ key: String) throws -> Int {
            guard let v = try optionalInt(key) else { throw ModelError.missingMetadata(path: path, key: "\(arch).\(key)") }
            return v
        }
        func number(_ key: String) throws -> Double? {
            guard let value = file.value("\(arch).\(key)") else { return nil }
            guard let v = value.number else {
                throw ModelError.invalidMetadata(path: path, key: "\(arch).\(key)", value: value.description, reason: "expected a number")
            }
            return v
        }
        func string(_ key: String) throws -> String? {
            guard let value = file.value("\(arch).\(key)") else { return nil }
            guard let v = value.string else {
                throw ModelError.invalidMetadata(path: path, key: "\(arch).\(key)", value: value.description, reason: "expected a string")
            }
            return v
        }
        func bool(_ key: String) throws -> Bool? {
            guard let value = file.value("\(arch).\(key)") else { return nil }
            guard case let .bool(v) = value else {
                throw ModelError.invalidMetadata(path: path, key: "\(arch).\(key)", value: value.description, reason: "expected true or false")
            }
            return v
        }
        let check = MetadataCheck(path: path)
        let embedding = try check.count(try int("embedding_length"), "\(arch).embedding_length", maximum: MetadataCheck.Limit.width)
        let heads = try check.count(try int("attention.head_count"), "\(arch).attention.head_count", maximum: MetadataCheck.Limit.heads)
        let headDimension: Int
        if let given = try optionalInt("attention.key_length") {
            headDimension = given
        } else {
            try check.divides(heads, "\(arch).attention.head_count", into: embedding, "\(arch).embedding_length")
            headDimension = embedding / heads
        }
        var positionScale: Float = 1
        switch try string("rope.scaling.type") {
        case nil, "none": break
        case "linear":
            let factor = try number("rope.scaling.factor") ?? 1
            positionScale = 1 / (try check.positive(factor, "\(arch).rope.scaling.factor"))
        case "yarn": break  // below, once the rotary dimension is known
        case let other?:
            throw ModelError.unsupportedRopeScaling(path: path, type: other)
        }
        var configuration = try Configuration(
            architecture: arch, layers: try int("block_count"), embedding: embedding, feedForward: try int("feed_forward_length"),
            heads: heads, kvHeads: try optionalInt("attention.head_count_kv") ?? heads, headDimension: headDimension,
            rotaryDimension: try optionalInt("rope.dimension_count") ?? headDimension,
            ropeBase: Float(try number("rope.freq_base") ?? 10000),
            ropeNeoX: ["qwen2", "qwen3", "qwen2moe", "qwen3moe", "phi3", "gemma", "gemma2", "gemma3"].contains(arch), ropePositionScale: positionScale,
            // Required, as llama.cpp's loader requires it (a default would compute another model).
            epsilon: Float(try number("attention.layer_norm_rms_epsilon") ?? { throw ModelError.missingMetadata(path: path, key: "\(arch).attention.layer_norm_rms_epsilon") }()),
            vocabulary: file.value("tokenizer.ggml.tokens")?.array?.count ?? 0,
            trainedContext: try optionalInt("context_length"), headNorms: ["qwen3", "qwen3moe", "gemma3"].contains(arch)).checked(path: path, keys: .gguf(arch))
        if let count = try optionalInt("expert_count"), count != 0 {
            // Mixtral (`llama`), Qwen2-MoE (with a shared expert; weights not renormalized, as
            // llama.cpp's qwen2moe), Qwen3-MoE.
            let isQwen = arch == "qwen2moe" || arch == "qwen3moe"
            try configuration.setExperts(path: path, count: count, countKey: "\(arch).expert_count",
                                         used: try int("expert_used_count"), usedKey: "\(arch).expert_used_count",
                                         width: isQwen ? try int("expert_feed_forward_length") : nil, widthKey: "\(arch).expert_feed_forward_length",
                                         shared: arch == "qwen2moe" ? try int("expert_shared_feed_forward_length") : nil,
                                         sharedKey: "\(arch).expert_shared_feed_forward_length", normalize: arch != "qwen2moe")
            configuration.sharedExpertGated = arch == "qwen2moe"
        }
        if arch == "deepseek2" {
            func key(_ name: String) throws -> Int? { try optionalInt(name) }
            // The latent-attention sizes have no default that could be right: a missing one is
            // named (llama.cpp's defaults, the width over the heads, would load another model).
            // Older converters (attn_kv_b) wrote the head sizes as key_length/value_length only.
            let qkKey = file.value("\(arch).attention.key_length_mla") == nil && file.value("\(arch).attention.key_length") != nil
                ? "attention.key_length" : "attention.key_length_mla"
            // The rope part is checked against the head before the rest of the head is computed.
            let qk = try MetadataCheck(path: path).count(int(qkKey), "\(arch).\(qkKey)", minimum: 3, maximum: MetadataCheck.Limit.headDimension)
            let rope = try MetadataCheck(path: path).count(int("rope.dimension_count"), "\(arch).rope.dimension_count", minimum: 2, maximum: qk - 1)
            let value = try key("attention.value_length_mla") ?? key("attention.value_length") ?? int("attention.value_length_mla")
            let experts = try key("expert_count") ?? 0
            let gating: ExpertGating
            switch try key("expert_gating_func") {
            case 1?: gating = .softmax
            case 2?: gating = .sigmoid
            case nil:
                // llama.cpp takes softmax here (DeepSeek-V2's GGUFs have no such key); a router bias
                // (exp_probs_b) is DeepSeek-V3's, whose scores are sigmoids.
                gating = file.tensors.contains { $0.name.hasSuffix("exp_probs_b.bias") } ? .sigmoid : .softmax
            case let other?:
                throw ModelError.invalidMetadata(path: path, key: "\(arch).expert_gating_func", value: "\(other)", reason: "1 (softmax) and 2 (sigmoid) are supported")
            }
            try configuration.setDeepSeek(
                path: path, keys: .gguf(arch), qLoraRank: try key("attention.q_lora_rank"), kvLoraRank: try int("attention.kv_lora_rank"),
                nope: qk - rope, rope: rope, value: value, denseLeading: try key("leading_dense_block_count") ?? 0,
                experts: experts, used: try key("expert_used_count") ?? 0, expertWidth: experts > 0 ? try int("expert_feed_forward_length") : 0,
                sharedCount: try key("expert_shared_count") ?? 0, scale: try number("expert_weights_scale") ?? 1,
                normalize: try bool("expert_weights_norm") ?? false, gating: gating,
                groups: try key("expert_group_count") ?? 1, groupsUsed: try key("expert_group_used_count") ?? 1)
        }
        if arch == "phi3" {
            configuration.fusedProjections = true
            if file.tensor("rope_factors_long.weight") != nil || file.tensor("blk.0.rope_factors_long.weight") != nil {
                throw ModelError.unsupportedRopeScaling(path: path, type: "longrope (rope_factors_long/short: Phi-3 128k)")
            }
        }
        if arch.hasPrefix("gemma") {
            try configuration.setGemma(path: path, value: { try number($0) }, ggufKeys: true, keyPrefix: "\(arch).")
            // llama.cpp honours an explicit pattern: a period, or one flag per layer.
            let patternKey = "\(arch).attention.sliding_window_pattern"
            if configuration.slidingWindow != nil, let value = file.value(patternKey) {
                if let flags = value.array {
                    // One flag per layer: booleans, or integers (non-zero: sliding) as some converters write.
                    let sliding = try flags.map { flag -> Bool in
                        if case let .bool(b) = flag { return b }
                        if let n = flag.integer { return n != 0 }
                        throw ModelError.invalidMetadata(path: path, key: patternKey, value: value.description, reason: "expected one true or false per layer")
                    }
                    guard sliding.count == configuration.layers else {
                        throw ModelError.invalidMetadata(path: path, key: patternKey, value: "\(sliding.count) entries", reason: "it must list the \(configuration.layers) layers")
                    }
                    configuration.slidingLayers = sliding
                } else if let period = value.integer {
                    let n = try check.count(Int(exactly: period) ?? -1, patternKey, minimum: 0, maximum: MetadataCheck.Limit.layers)
                    configuration.slidingLayers = (0..<configuration.layers).map { n == 0 || $0 % n < n - 1 }
                } else {
                    throw ModelError.invalidMetadata(path: path, key: patternKey, value: value.description, reason: "expected a period or one true or false per layer")
                }
            }
        }
        // Llama 3's rope scaling: llama.cpp's converter writes one factor per rotated pair.
        let frequencies = "rope_freqs.weight"
        if let info = file.tensor(frequencies) {
            guard info.dimensions == [configuration.rotaryDimension / 2] else {
                throw ModelError.wrongShape(path: path, name: frequencies, expected: [configuration.rotaryDimension / 2],
                                            found: info.dimensions)
            }
            let factors = try file.floats(info)
            for factor in factors { _ = try check.positive(Double(factor), frequencies) }
            configuration.ropeFrequencyFactors = factors
        }
        if try string("rope.scaling.type") == "yarn" {
            let key = "\(arch).rope.scaling."
            guard let original = try number("rope.scaling.original_context_length") else { throw ModelError.missingMetadata(path: path, key: key + "original_context_length") }
            // As llama.cpp reads them: DeepSeek's converter writes 0.1 · mscale_all_dim as
            // yarn_log_multiplier (llama.cpp takes mscale = mscale_all_dim then, so the rotation's
            // factor is 1); other architectures ignore it; beta_fast/beta_slow keep their defaults.
            let mscaleAll = arch == "deepseek2" ? try number("rope.scaling.yarn_log_multiplier").map { $0 / 0.1 } : nil
            try configuration.applyYarn(
                path: path, factor: try number("rope.scaling.factor") ?? 1, factorKey: key + "factor", original: Int(exactly: original) ?? -1,
                originalKey: key + "original_context_length", betaFast: 32, betaSlow: 1,
                attentionFactor: nil, mscale: mscaleAll, mscaleAllDim: mscaleAll, extraFactor: try number("rope.scaling.attn_factor") ?? 1)
        }
        let source = WeightSource(
            path: path, name: { $0.ggufName($1) },
            read: { name in
                guard let info = file.tensor(name) else { return nil }
                // GGUF lists dimensions innermost first: (inputs, outputs).
                return WeightSource.Tensor(shape: Array(info.dimensions.reversed()), matrix: { try file.weightMatrix(info) },
                                          floats: { try file.floats(info) })
            },
            allNames: file.tensors.map(\.name).filter { $0 != frequencies })
        try self.init(configuration: configuration, source: source)
    }

    /// Loads a Hugging Face `LlamaForCausalLM`/`Qwen2ForCausalLM` directory (F32, F16 or BF16
    /// weights, referenced in place in the mapped safetensors files).
    /// HF keeps Q/K rows in the rotate-half order, so the NeoX rotary layout applies.
    public init(safetensors checkpoint: SafetensorsCheckpoint) throws {
        let config = checkpoint.config, path = config.url.path
        let modelType = try config.string("model_type") ?? "?"
        let arch = ["gemma3_text": "gemma3", "qwen2_moe": "qwen2moe", "qwen3_moe": "qwen3moe", "deepseek_v2": "deepseek2",
                    "deepseek_v3": "deepseek2"][modelType] ?? modelType
        guard Self.supportedArchitectures.contains(arch) else {
            throw ModelError.unsupportedArchitecture(path: path, name: arch, supported: Self.supportedArchitectures)
        }
        func int(_ key: String) throws -> Int {
            guard let v = try config.integer(key) else { throw ModelError.missingMetadata(path: path, key: key) }
            return v
        }
        let check = MetadataCheck(path: path)
        let embedding = try check.count(try int("hidden_size"), "hidden_size", maximum: MetadataCheck.Limit.width)
        let heads = try check.count(try int("num_attention_heads"), "num_attention_heads", maximum: MetadataCheck.Limit.heads)
        let headDimension: Int
        if let given = try config.integer("head_dim") {
            headDimension = given
        } else {
            try check.divides(heads, "num_attention_heads", into: embedding, "hidden_size")
            headDimension = embedding / heads
        }
        var positionScale: Float = 1
        // transformers ≥ 5 writes `rope_parameters` (rope_theta, rope_type, factor); older files
        // `rope_theta` and `rope_scaling`.
        let ropeParameters = try config.nested("rope_parameters")
        if try ropeParameters?.nested("full_attention") != nil || ropeParameters?.nested("sliding_attention") != nil {
            throw ModelError.unsupportedSetting(path: path, key: "rope_parameters", value: "parameters per layer type (transformers ≥ 5)",
                                                supported: "rope_theta and rope_scaling as transformers 4 writes them")
        }
        if let scaling = try config.nested("rope_scaling") ?? ropeParameters {
            let type = try scaling.string("rope_type") ?? scaling.string("type") ?? "?"
            switch type {
            case "default": break
            case "?" where try scaling.number("factor") == nil: break
            case "linear": positionScale = 1 / (try check.positive(try scaling.number("factor") ?? 1, "rope_scaling.factor"))
            case "llama3", "yarn": break  // below, once the rotary dimension and base are known
            default: throw ModelError.unsupportedRopeScaling(path: path, type: type)
            }
        }
        var configuration = try Configuration(
            architecture: arch, layers: try int("num_hidden_layers"), embedding: embedding, feedForward: try int("intermediate_size"),
            heads: heads, kvHeads: try config.integer("num_key_value_heads") ?? heads, headDimension: headDimension,
            rotaryDimension: headDimension, ropeBase: Float(try config.number("rope_theta") ?? ropeParameters?.number("rope_theta") ?? 10000),
            ropeNeoX: true,
            ropePositionScale: positionScale, epsilon: Float(try config.number("rms_norm_eps") ?? 1e-6),
            vocabulary: try int("vocab_size"), trainedContext: try config.integer("max_position_embeddings"),
            headNorms: ["qwen3", "qwen3moe", "gemma3"].contains(arch)).checked(path: path, keys: .huggingFace)
        if arch == "mixtral" || arch == "qwen2moe" || arch == "qwen3moe" {
            let isMixtral = arch == "mixtral"
            if let step = try config.integer("decoder_sparse_step"), step != 1 {
                throw ModelError.unsupportedSetting(path: path, key: "decoder_sparse_step", value: "\(step)", supported: "every layer a mixture of experts (1)")
            }
            if let dense = config.listCount("mlp_only_layers"), dense > 0 {
                throw ModelError.unsupportedSetting(path: path, key: "mlp_only_layers", value: "\(dense) layers", supported: "none: every layer a mixture of experts")
            }
            try configuration.setExperts(path: path, count: try int(isMixtral ? "num_local_experts" : "num_experts"),
                                         countKey: isMixtral ? "num_local_experts" : "num_experts",
                                         used: try int("num_experts_per_tok"), usedKey: "num_experts_per_tok",
                                         width: isMixtral ? nil : try int("moe_intermediate_size"), widthKey: "moe_intermediate_size",
                                         shared: arch == "qwen2moe" ? try int("shared_expert_intermediate_size") : nil,
                                         sharedKey: "shared_expert_intermediate_size",
                                         normalize: isMixtral || (try config.bool("norm_topk_prob") ?? (arch == "qwen3moe")))
            configuration.sharedExpertGated = arch == "qwen2moe"
        }
        if arch == "deepseek2" {
            let isV3 = modelType == "deepseek_v3"
            let scoring = try config.string("scoring_func") ?? (isV3 ? "sigmoid" : "softmax")
            guard let gating = ExpertGating(rawValue: scoring) else {
                throw ModelError.unsupportedSetting(path: path, key: "scoring_func", value: scoring, supported: "softmax and sigmoid")
            }
            func required(_ key: String) throws -> Int {
                guard let value = try config.integer(key) else { throw ModelError.missingMetadata(path: path, key: key) }
                return value
            }
            let experts = try config.integer("n_routed_experts") ?? 0
            try configuration.setDeepSeek(
                path: path, keys: .huggingFace, qLoraRank: try config.integer("q_lora_rank"), kvLoraRank: try required("kv_lora_rank"),
                nope: try required("qk_nope_head_dim"), rope: try required("qk_rope_head_dim"), value: try required("v_head_dim"),
                denseLeading: try config.integer("first_k_dense_replace") ?? 0, experts: experts,
                used: try config.integer("num_experts_per_tok") ?? 0, expertWidth: experts > 0 ? try required("moe_intermediate_size") : 0,
                sharedCount: try config.integer("n_shared_experts") ?? 0, scale: try config.number("routed_scaling_factor") ?? 1,
                normalize: try config.bool("norm_topk_prob") ?? false, gating: gating,
                // transformers' "greedy" (DeepSeek-V2-Lite) ignores the groups.
                groups: try config.string("topk_method") == "greedy" ? 1 : try config.integer("n_group") ?? 1,
                groupsUsed: try config.string("topk_method") == "greedy" ? 1 : try config.integer("topk_group") ?? 1)
        }
        if arch == "phi3" {
            configuration.fusedProjections = true
            if let factor = try config.number("partial_rotary_factor") {
                let rotary = Int(Double(headDimension) * Double(try check.positive(factor, "partial_rotary_factor", maximum: 1)))
                configuration.rotaryDimension = try check.count(rotary - rotary % 2, "partial_rotary_factor", minimum: 2, maximum: headDimension)
            }
        }
        // The other families gate their feed-forward with SiLU (transformers' other name for it:
        // swish); another activation would be computed as SiLU.
        if !arch.hasPrefix("gemma"), let activation = try config.string("hidden_act"), activation != "silu", activation != "swish" {
            throw ModelError.unsupportedActivation(path: path, name: activation, supported: "silu")
        }
        if arch.hasPrefix("gemma") {
            // Gemma 1 computes the tanh GELU when hidden_activation is absent or null, whatever
            // hidden_act says (transformers' configs from 4.38 on often hold "gelu" there).
            let activation = try config.string("hidden_activation") ?? (arch == "gemma" ? nil : config.string("hidden_act")) ?? "gelu_pytorch_tanh"
            guard activation == "gelu_pytorch_tanh" else { throw ModelError.unsupportedActivation(path: path, name: activation, supported: "gelu_pytorch_tanh") }
            try configuration.setGemma(path: path, value: { try config.number($0) }, ggufKeys: false, keyPrefix: "")
            if let types = try config.strings("layer_types") {
                let sliding = types.map { $0 == "sliding_attention" }
                guard sliding.count == configuration.layers else {
                    throw ModelError.invalidMetadata(path: path, key: "layer_types", value: "\(types.count) entries",
                                                     reason: "it must list the \(configuration.layers) layers")
                }
                configuration.slidingLayers = sliding
            }
            if let scalar = try config.number("query_pre_attn_scalar") {
                configuration.attentionScale = 1 / (try check.positive(scalar, "query_pre_attn_scalar")).squareRoot()
            }
        }
        if let scaling = try config.nested("rope_scaling") ?? ropeParameters, (try scaling.string("rope_type") ?? scaling.string("type")) == "llama3" {
            configuration.ropeFrequencyFactors = try Self.llama3FrequencyFactors(scaling, configuration: configuration, check: check)
        }
        if let scaling = try config.nested("rope_scaling") ?? ropeParameters, (try scaling.string("rope_type") ?? scaling.string("type")) == "yarn" {
            let original = try scaling.integer("original_max_position_embeddings") ?? config.integer("max_position_embeddings") ?? -1
            try configuration.applyYarn(
                path: path, factor: try scaling.number("factor") ?? 1, factorKey: "rope_scaling.factor", original: original,
                originalKey: "rope_scaling.original_max_position_embeddings", betaFast: try scaling.number("beta_fast") ?? 32,
                betaSlow: try scaling.number("beta_slow") ?? 1, attentionFactor: try scaling.number("attention_factor"),
                mscale: try scaling.number("mscale"), mscaleAllDim: try scaling.number("mscale_all_dim"), extraFactor: 1)
        }
        if ["mistral", "mixtral", "phi3"].contains(arch), let window = try config.integer("sliding_window") {
            configuration.slidingWindow = try check.count(window, "sliding_window", maximum: MetadataCheck.Limit.context)
        }
        if arch.hasPrefix("qwen"), try config.bool("use_sliding_window") == true {
            throw ModelError.unsupportedSetting(path: path, key: "use_sliding_window", value: "true",
                                                supported: "Qwen models run with full attention in every layer")
        }
        // Gemma's RMSNorm multiplies by 1 + weight (llama.cpp's converter stores 1 + weight).
        let plusOne = arch.hasPrefix("gemma")
        let nextN = arch == "deepseek2" ? try config.integer("num_nextn_predict_layers") ?? 0 : 0
        let source = WeightSource(
            path: checkpoint.directory.path, name: { $0.hfName($1, architecture: arch) },
            read: { name in
                guard let (file, info) = checkpoint.tensor(name) else { return nil }
                let floats = { () throws -> [Float] in
                    let values = try file.floats(info)
                    return plusOne && name.hasSuffix("norm.weight") ? values.map { 1 + $0 } : values
                }
                return WeightSource.Tensor(shape: info.shape, matrix: { try file.weightMatrix(info) }, floats: floats)
            },
            // DeepSeek-V3/R1 checkpoints carry the multi-token-prediction layer(s) after the last
            // layer; transformers, DeepSeek's code and llama.cpp's converter leave them out.
            allNames: checkpoint.tensors.map(\.tensor.name).filter { name in
                guard arch == "deepseek2", nextN > 0, name.hasPrefix("model.layers.") else { return true }
                let index = name.dropFirst("model.layers.".count).prefix { $0.isNumber }
                return (Int(index) ?? 0) < configuration.layers
            },
            expertName: { $0.hfExpertName($1, expert: $2, architecture: arch) })
        try self.init(configuration: configuration, source: source)
        if try config.bool("tie_word_embeddings") == false, checkpoint.tensor("lm_head.weight") == nil {
            throw ModelError.missingTensor(path: source.path, name: "lm_head.weight")
        }
    }

    /// Llama 3's rope scaling as transformers computes it (`_compute_llama3_parameters`) and
    /// llama.cpp's converter writes it (`rope_freqs`): pairs whose wavelength is shorter than
    /// original context / high_freq_factor keep their frequency, those longer than original
    /// context / low_freq_factor turn `factor` times slower, and the band between is interpolated.
    /// Returns the divisor of each pair's angle.
    static func llama3FrequencyFactors(_ scaling: HFConfig, configuration c: Configuration, check: MetadataCheck) throws -> [Float] {
        let factor = Double(try check.positive(try scaling.number("factor") ?? 8, "rope_scaling.factor"))
        let low = Double(try check.positive(try scaling.number("low_freq_factor") ?? 1, "rope_scaling.low_freq_factor"))
        let high = Double(try check.positive(try scaling.number("high_freq_factor") ?? 4, "rope_scaling.high_freq_factor"))
        let original = Double(try check.count(try scaling.integer("original_max_position_embeddings") ?? 8192,
                                              "rope_scaling.original_max_position_embeddings", maximum: MetadataCheck.Limit.context))
        guard high > low else {
            throw ModelError.invalidMetadata(path: check.path, key: "rope_scaling.high_freq_factor", value: "\(high)",
                                             reason: "it must be greater than low_freq_factor (\(low))")
        }
        let lowWavelength = original / low, highWavelength = original / high
        return (0..<(c.rotaryDimension / 2)).map { i in
            let frequency = 1 / pow(Double(c.ropeBase), Double(2 * i) / Double(c.rotaryDimension))
            let wavelength = 2 * Double.pi / frequency
            if wavelength < highWavelength { return 1 }
            if wavelength > lowWavelength { return Float(factor) }
            let smooth = (original / wavelength - low) / (high - low)
            return Float(1 / ((1 - smooth) / factor + smooth))
        }
    }
}
