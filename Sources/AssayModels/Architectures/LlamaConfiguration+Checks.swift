extension LlamaModel.Configuration {
    /// The keys each value came from (GGUF metadata or `config.json`), for messages.
    struct Keys {
        var layers, embedding, feedForward, heads, kvHeads, headDimension, rotaryDimension: String
        var ropeBase, ropeScale, epsilon, vocabulary, context: String

        /// GGUF metadata keys under `arch.`.
        static func gguf(_ arch: String) -> Keys {
            Keys(layers: "\(arch).block_count", embedding: "\(arch).embedding_length", feedForward: "\(arch).feed_forward_length",
                 heads: "\(arch).attention.head_count", kvHeads: "\(arch).attention.head_count_kv", headDimension: "\(arch).attention.key_length",
                 rotaryDimension: "\(arch).rope.dimension_count", ropeBase: "\(arch).rope.freq_base", ropeScale: "\(arch).rope.scaling.factor",
                 epsilon: "\(arch).attention.layer_norm_rms_epsilon", vocabulary: "tokenizer.ggml.tokens", context: "\(arch).context_length")
        }

        /// Hugging Face `config.json` keys.
        static let huggingFace = Keys(
            layers: "num_hidden_layers", embedding: "hidden_size", feedForward: "intermediate_size", heads: "num_attention_heads",
            kvHeads: "num_key_value_heads", headDimension: "head_dim", rotaryDimension: "head_dim", ropeBase: "rope_theta",
            ropeScale: "rope_scaling.factor", epsilon: "rms_norm_eps", vocabulary: "vocab_size", context: "max_position_embeddings")
    }

    /// Checks every value the forward pass computes with, before it does.
    /// - Throws: ``ModelError/invalidMetadata(path:key:value:reason:)`` naming the key.
    func checked(path: String, keys: Keys) throws -> Self {
        let check = MetadataCheck(path: path)
        typealias Limit = MetadataCheck.Limit
        _ = try check.count(layers, keys.layers, maximum: Limit.layers)
        _ = try check.count(embedding, keys.embedding, maximum: Limit.width)
        _ = try check.count(feedForward, keys.feedForward, maximum: Limit.feedForward)
        _ = try check.count(heads, keys.heads, maximum: Limit.heads)
        _ = try check.count(kvHeads, keys.kvHeads, maximum: heads)
        try check.divides(kvHeads, keys.kvHeads, into: heads, keys.heads)
        _ = try check.count(headDimension, keys.headDimension, maximum: Limit.headDimension)
        _ = try check.count(rotaryDimension, keys.rotaryDimension, minimum: 2, maximum: headDimension)
        guard rotaryDimension % 2 == 0 else {
            throw ModelError.invalidMetadata(path: path, key: keys.rotaryDimension, value: String(rotaryDimension), reason: "it must be even")
        }
        _ = try check.positive(Double(ropeBase), keys.ropeBase)
        _ = try check.positive(Double(ropePositionScale), keys.ropeScale)
        _ = try check.positive(Double(epsilon), keys.epsilon, maximum: 1)
        _ = try check.count(vocabulary, keys.vocabulary, maximum: Limit.vocabulary)
        if let trainedContext { _ = try check.count(trainedContext, keys.context, maximum: Limit.context) }
        return self
    }
}
