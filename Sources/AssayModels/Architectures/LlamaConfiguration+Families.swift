import Foundation

/// The settings particular families add to the Llama configuration (Gemma, mixtures of experts,
/// DeepSeek, YaRN), shared by the GGUF and Hugging Face loaders.
extension LlamaModel.Configuration {
    /// Gemma's settings (llama.cpp's `llm_build_gemma*`, transformers' `Gemma*ForCausalLM`): the
    /// embedding times √embedding, GeGLU; Gemma 2/3 add norms after attention and feed-forward and
    /// sliding-window layers (Gemma 2: every other one from the first, window 4096 by default;
    /// Gemma 3: five of every six, with their own RoPE base); Gemma 2 soft-caps attention scores
    /// (50) and logits (30). `value` reads a number by its key without the architecture prefix
    /// (GGUF keys when `ggufKeys`, else `config.json`'s); errors name `keyPrefix` + key.
    mutating func setGemma(path: String, value: (String) throws -> Double?, ggufKeys: Bool, keyPrefix: String) throws {
        let check = MetadataCheck(path: path)
        func key(_ name: String) -> String { keyPrefix + name }
        embeddingScale = Float(embedding).squareRoot()
        activation = .geluTanh
        guard architecture != "gemma" else { return }
        postNorms = true
        // llama.cpp scales Q by 1/√(embedding/heads) for the 27B models (46 and 62 layers), else
        // by 1/√headDimension (config.json's query_pre_attn_scalar says which, for the HF path).
        if (architecture == "gemma2" && layers == 46) || (architecture == "gemma3" && layers == 62), embedding >= heads {
            attentionScale = 1 / Float(embedding / heads).squareRoot()
        }
        let windowKey = ggufKeys ? "attention.sliding_window" : "sliding_window"
        let pattern = architecture == "gemma2" ? 2 : 6
        let window = try value(windowKey) ?? (architecture == "gemma2" ? 4096 : nil)
        if let window, window != 0 {
            slidingWindow = try check.count(Int(exactly: window) ?? -1, key(windowKey), maximum: MetadataCheck.Limit.context)
            slidingLayers = (0..<layers).map { $0 % pattern < pattern - 1 }
        }
        if architecture == "gemma2" {
            attentionSoftCap = try check.positive(value("attn_logit_softcapping") ?? 50, key("attn_logit_softcapping"))
            finalSoftCap = try check.positive(value("final_logit_softcapping") ?? 30, key("final_logit_softcapping"))
        } else {
            if let cap = try value("final_logit_softcapping"), cap != 0 { finalSoftCap = try check.positive(cap, key("final_logit_softcapping")) }
            if slidingWindow != nil {
                let base = ggufKeys ? "rope.freq_base_swa" : "rope_local_base_freq"
                localRopeBase = try check.positive(value(base) ?? 10000, key(base))
            }
        }
    }
}

extension LlamaModel.Configuration {
    /// A mixture of experts in every layer, its numbers checked (keys named for messages).
    mutating func setExperts(path: String, count: Int, countKey: String, used: Int, usedKey: String, width: Int?, widthKey: String,
                             shared: Int?, sharedKey: String, normalize: Bool) throws {
        let check = MetadataCheck(path: path)
        experts = try check.count(count, countKey, maximum: 1024)
        expertsUsed = try check.count(used, usedKey, maximum: experts)
        if let width { expertFeedForward = try check.count(width, widthKey, maximum: MetadataCheck.Limit.feedForward) }
        if let shared { sharedExpertFeedForward = try check.count(shared, sharedKey, maximum: MetadataCheck.Limit.feedForward) }
        normalizeExpertWeights = normalize
    }
}

extension LlamaModel.Configuration {
    /// DeepSeek-V2/V3: latent attention (its sizes checked), interleaved RoPE on the rope part of
    /// each head only, dense leading layers, and its mixture (shared experts of `sharedCount` ×
    /// the expert width, groups, scale, gating). `keys` names GGUF or config.json keys in errors.
    mutating func setDeepSeek(path: String, keys: Keys, qLoraRank: Int?, kvLoraRank: Int, nope: Int, rope: Int, value: Int, denseLeading: Int,
                              experts count: Int, used: Int, expertWidth: Int, sharedCount: Int, scale: Double, normalize: Bool,
                              gating: LlamaModel.ExpertGating, groups: Int, groupsUsed: Int) throws {
        let check = MetadataCheck(path: path)
        typealias Limit = MetadataCheck.Limit
        let gguf = keys.layers.contains(".")
        func name(_ ggufKey: String, _ hfKey: String) -> String { gguf ? "deepseek2." + ggufKey : hfKey }
        let sizes = LatentAttention.Sizes(
            qLoraRank: try qLoraRank.map { try check.count($0, name("attention.q_lora_rank", "q_lora_rank"), maximum: Limit.width) },
            kvLoraRank: try check.count(kvLoraRank, name("attention.kv_lora_rank", "kv_lora_rank"), maximum: Limit.width),
            nopeDimension: try check.count(nope, name("attention.key_length_mla", "qk_nope_head_dim"), maximum: Limit.headDimension),
            ropeDimension: try check.count(rope, name("rope.dimension_count", "qk_rope_head_dim"), minimum: 2, maximum: Limit.headDimension),
            valueDimension: try check.count(value, name("attention.value_length_mla", "v_head_dim"), maximum: Limit.headDimension))
        guard rope % 2 == 0 else {
            throw ModelError.invalidMetadata(path: path, key: name("rope.dimension_count", "qk_rope_head_dim"), value: String(rope), reason: "it must be even")
        }
        latent = sizes
        headDimension = sizes.qkDimension
        rotaryDimension = rope
        kvHeads = heads
        ropeNeoX = false
        denseLeadingLayers = try check.count(denseLeading, name("leading_dense_block_count", "first_k_dense_replace"), minimum: 0, maximum: layers)
        guard denseLeadingLayers < layers, count > 0 else { return }
        try setExperts(path: path, count: count, countKey: name("expert_count", "n_routed_experts"), used: used,
                       usedKey: name("expert_used_count", "num_experts_per_tok"), width: expertWidth,
                       widthKey: name("expert_feed_forward_length", "moe_intermediate_size"), shared: nil, sharedKey: "", normalize: normalize)
        if sharedCount > 0 {
            let shared = try check.count(sharedCount, name("expert_shared_count", "n_shared_experts"), maximum: experts)
            sharedExpertFeedForward = shared * expertFeedForward!
        }
        expertGating = gating
        // 0 means "no scale" to llama.cpp.
        expertWeightScale = scale == 0 ? 1 : try check.positive(scale, name("expert_weights_scale", "routed_scaling_factor"))
        expertGroups = try check.count(groups, name("expert_group_count", "n_group"), maximum: experts)
        try check.divides(expertGroups, name("expert_group_count", "n_group"), into: experts, name("expert_count", "n_routed_experts"))
        expertGroupsUsed = try check.count(groupsUsed, name("expert_group_used_count", "topk_group"), maximum: expertGroups)
    }
}

extension LlamaModel.Configuration {
    /// YaRN (transformers' `_compute_yarn_parameters`, llama.cpp's `rope_yarn`, DeepSeek's
    /// `precompute_freqs_cis`): pairs rotating faster than `betaFast` turns over the original
    /// context keep their frequency, those slower than `betaSlow` turns are interpolated (÷ factor),
    /// a linear ramp between; the cosine and sine are multiplied by the attention factor
    /// (given, or mscale's ratio, or 0.1·ln(factor) + 1) times `extraFactor`; DeepSeek's softmax
    /// scale also by (0.1·mscale_all_dim·ln(factor) + 1)².
    mutating func applyYarn(path: String, factor: Double, factorKey: String, original: Int, originalKey: String, betaFast: Double, betaSlow: Double,
                            attentionFactor: Double?, mscale: Double?, mscaleAllDim: Double?, extraFactor: Double) throws {
        let check = MetadataCheck(path: path)
        let factor = Double(try check.positive(factor, factorKey))
        let original = Double(try check.count(original, originalKey, maximum: MetadataCheck.Limit.context))
        let fast = Double(try check.positive(betaFast, "yarn beta_fast")), slow = Double(try check.positive(betaSlow, "yarn beta_slow"))
        let dimension = Double(rotaryDimension), base = Double(ropeBase)
        guard base > 1 else {
            throw ModelError.invalidMetadata(path: path, key: "rope base", value: "\(base)", reason: "YaRN needs a RoPE base above 1")
        }
        func correction(_ rotations: Double) -> Double { dimension * log(original / (rotations * 2 * Double.pi)) / (2 * log(base)) }
        let low = max(floor(correction(fast)), 0), high = min(ceil(correction(slow)), dimension - 1)
        ropeFrequencyFactors = (0..<(rotaryDimension / 2)).map { i in
            let ramp = min(1, max(0, (Double(i) - low) / max(0.001, high - low)))
            let extrapolation = 1 - ramp
            return Float(1 / ((1 - extrapolation) / factor + extrapolation))
        }
        func scaled(_ m: Double) -> Double { factor <= 1 ? 1 : 0.1 * m * log(factor) + 1 }
        var attention = attentionFactor ?? scaled(1)
        if attentionFactor == nil, let mscale, let mscaleAllDim, mscale != 0, mscaleAllDim != 0 { attention = scaled(mscale) / scaled(mscaleAllDim) }
        ropeAttentionFactor = try check.positive(attention * extraFactor, "yarn attention factor")
        if let sizes = latent, let mscaleAllDim, mscaleAllDim != 0 {
            let m = scaled(mscaleAllDim)
            attentionScale = Float(m * m / Double(sizes.qkDimension).squareRoot())
        }
    }
}
