import AssayCheckpoint
import AssayTensor
import Foundation

/// The Llama family — Llama (Llama 3's rope scaling included; also DeepSeek-R1-Distill-Llama),
/// SmolLM, Mistral (its sliding window from `config.json`), Qwen2 (with Q/K/V biases; also
/// DeepSeek-R1-Distill-Qwen), Qwen3 (RMSNorm over each head of Q and K), Phi-3 (fused
/// projections), Gemma 1/2/3, mixtures of experts (Mixtral, Qwen2-MoE, Qwen3-MoE), DeepSeek-V2/V3
/// (latent attention; see ``Configuration`` for what each adds) — from GGUF or from a
/// Hugging Face directory (`config.json` + safetensors), following llama.cpp's
/// `llm_build_llama`/`llm_build_qwen2`/`llm_build_qwen3`: RMSNorm → Q/K/V projections (+ bias) → RoPE → grouped-query
/// causal attention → output projection, residual; RMSNorm → SwiGLU feed-forward, residual; final
/// RMSNorm and the output projection (tied to the token embedding when there is none).
///
/// Weight matrices stay in the type they are stored in, referenced in place in the mapped file
/// (``WeightMatrix``): one token goes through the quantized matrix-vector kernels, a chunk through
/// `cblas_sgemm` on panels of dequantized rows (or, with `ggml` numerics, integer GEMMs). Loading reads metadata and norms only. The loader
/// maps GGUF and HF tensor names and fails on a missing, mis-shaped or unused tensor.
public struct LlamaModel: Sendable {
    /// Hyper-parameters from the GGUF metadata or `config.json`.
    public struct Configuration: Sendable, Equatable {
        /// One of ``LlamaModel/supportedArchitectures``.
        public var architecture: String
        public var layers: Int
        public var embedding: Int
        public var feedForward: Int
        public var heads: Int
        public var kvHeads: Int
        public var headDimension: Int
        public var rotaryDimension: Int
        public var ropeBase: Float
        /// NeoX rotary layout (HF weights, Qwen2) instead of llama.cpp's normal layout (GGUF Llama).
        public var ropeNeoX: Bool
        /// Positions are multiplied by this before rotation (1 / linear rope-scaling factor).
        public var ropePositionScale: Float
        public var epsilon: Float
        public var vocabulary: Int
        /// The longest context the model was trained for (`context_length`, `max_position_embeddings`).
        public var trainedContext: Int?
        /// Per rotated pair, the rotation angle is divided by this (Llama 3 rope scaling: the
        /// GGUF's `rope_freqs.weight`, or computed from `rope_scaling` in `config.json`).
        public var ropeFrequencyFactors: [Float]? = nil
        /// YaRN's attention factor: the rotation's cosine and sine are multiplied by it.
        public var ropeAttentionFactor: Float = 1
        /// A query sees only the keys fewer than this many positions back (itself included):
        /// Mistral's `sliding_window` from `config.json`; nil: every earlier key.
        public var slidingWindow: Int? = nil
        /// RMSNorm over each head of Q and K before RoPE (Qwen3's and Gemma 3's `q_norm`/`k_norm`).
        public var headNorms: Bool = false
        /// Gemma: the token embeddings are multiplied by this (√embedding).
        public var embeddingScale: Float? = nil
        /// The feed-forward's gate activation: SiLU (SwiGLU) or GELU's tanh form (GeGLU, Gemma).
        public var activation: Activation = .silu
        /// Gemma 2/3: RMSNorm on the attention output and on the feed-forward output before each
        /// residual add.
        public var postNorms: Bool = false
        /// Q·K is multiplied by this (nil: 1/√headDimension; Gemma 2/3: query_pre_attn_scalar^−½).
        public var attentionScale: Float? = nil
        /// Gemma 2: attention scores s become cap·tanh(s/cap).
        public var attentionSoftCap: Float? = nil
        /// Gemma 2: logits become cap·tanh(logit/cap).
        public var finalSoftCap: Float? = nil
        /// The layers `slidingWindow` applies to (Gemma 2/3: the local ones); nil: every layer.
        public var slidingLayers: [Bool]? = nil
        /// Gemma 3: the RoPE base of sliding-window layers, which take no position scale (the
        /// global layers keep `ropeBase` and `ropePositionScale`).
        public var localRopeBase: Float? = nil
        /// Phi-3: Q, K and V in one matrix (`qkv_proj`, `attn_qkv`), gate and up in one
        /// (`gate_up_proj`; `ffn_up` of twice the width in GGUF).
        public var fusedProjections: Bool = false

        /// Mixtures of experts (Mixtral, Qwen2-MoE, Qwen3-MoE): experts per layer (0: a dense
        /// feed-forward), how many run on each token, the width of each (nil: `feedForward`),
        /// whether the chosen experts' weights are renormalized to sum to 1, and the width of
        /// Qwen2-MoE's shared expert.
        public var experts: Int = 0
        public var expertsUsed: Int = 0
        public var expertFeedForward: Int? = nil
        public var normalizeExpertWeights: Bool = false
        public var sharedExpertFeedForward: Int? = nil
        /// Qwen2-MoE: the shared expert's output is scaled by sigmoid(gate · x).
        public var sharedExpertGated: Bool = false
        /// How router logits become expert scores: softmax (Mixtral, Qwen, DeepSeek-V2) or sigmoid
        /// (DeepSeek-V3, whose weights are then always renormalized, as its inference code does).
        public var expertGating: ExpertGating = .softmax
        /// DeepSeek: experts come in groups; a token's experts are chosen from the best
        /// `expertGroupsUsed` groups (scored by their best expert, or with a selection bias by
        /// their best two).
        public var expertGroups: Int = 1
        public var expertGroupsUsed: Int = 1
        /// DeepSeek: the routed experts' weights are multiplied by this (`routed_scaling_factor`).
        public var expertWeightScale: Float = 1
        /// DeepSeek: the first layers keep a dense feed-forward (`first_k_dense_replace`).
        public var denseLeadingLayers: Int = 0
        /// DeepSeek-V2/V3's multi-head latent attention (its sizes), instead of Q/K/V heads.
        var latent: LatentAttention.Sizes? = nil

        /// Whether layer `index` attends through the sliding window.
        func isSliding(_ index: Int) -> Bool { slidingWindow != nil && (slidingLayers?[index] ?? true) }
    }

    /// How a mixture's router logits become scores.
    public enum ExpertGating: String, Sendable, Equatable {
        case softmax, sigmoid
    }

    /// The feed-forward's gate activation.
    public enum Activation: String, Sendable, Equatable {
        /// SiLU: SwiGLU (Llama, Qwen, Mistral, Phi-3).
        case silu
        /// GELU, tanh approximation: GeGLU (Gemma's `gelu_pytorch_tanh`).
        case geluTanh
    }

    /// How the forward pass rounds.
    public enum Numerics: String, Sendable, CaseIterable {
        /// f32 activations and KV cache against the dequantized weights.
        case exact
        /// What llama.cpp's CPU backend computes: activations meeting a weight rounded to that
        /// weight's "vec_dot type" (Q8_0/Q8_1/Q8_K blocks, f16) — in decode by the same integer
        /// products ggml runs —, keys, values and queries in f16, attention probabilities in f16
        /// before they meet V (DeepSeek's latent cache stays f32), GELU through ggml's f16 table.
        case ggml
    }

    /// Architectures the loader knows (GGUF `general.architecture`, HF `model_type`; Mistral's
    /// and Mixtral's GGUFs say `llama`; Gemma 3's text-only `config.json` says `gemma3_text`, the
    /// Qwen mixtures' `qwen2_moe`/`qwen3_moe`, DeepSeek's `deepseek_v2`/`deepseek_v3`, GGUF `deepseek2`).
    public static let supportedArchitectures = ["llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen2moe", "qwen3moe", "phi3", "gemma", "gemma2", "gemma3",
                                                "deepseek2"]

    struct Layer: Sendable {
        /// Q, K and V projections (nil with latent attention).
        var attentionNorm: [Float], q: WeightMatrix?, k: WeightMatrix?, v: WeightMatrix?, output: WeightMatrix
        /// DeepSeek's multi-head latent attention instead of Q/K/V.
        var latent: LatentAttention? = nil
        var qBias: [Float]?, kBias: [Float]?, vBias: [Float]?
        var qNorm: [Float]?, kNorm: [Float]?
        var ffnNorm: [Float]
        /// A dense feed-forward, or a mixture of experts.
        var feedForward: FeedForward?, experts: MixtureOfExperts?
        var postAttentionNorm: [Float]? = nil, postFFNNorm: [Float]? = nil
    }

    public let configuration: Configuration
    /// `exact` (f32 activations) or `ggml` (llama.cpp's CPU rounding; see ``Numerics``).
    public var numerics: Numerics = .exact
    /// How a new ``KVCache`` stores keys and values (f32 unless set). Latent attention (DeepSeek)
    /// keeps an f32 cache whatever is set, and says so here.
    public var cacheType: CacheType {
        get { configuration.latent == nil ? requestedCacheType : .f32 }
        set { requestedCacheType = newValue }
    }
    private var requestedCacheType: CacheType = .f32
    var embedding: WeightMatrix
    var layers: [Layer]
    let outputNorm: [Float]
    var output: WeightMatrix
    /// The weights' type when they were quantized in memory (``quantized(_:pure:)``), else nil.
    public private(set) var weightQuantization: GGMLType?

    /// Where weights come from: a name scheme, a reader and the list of every tensor in the file.
    struct WeightSource {
        /// A tensor found: its shape as (outputs, inputs) — or (n) for a vector —, and its
        /// values as a matrix in place or as f32 (vectors).
        struct Tensor {
            var shape: [Int]
            var matrix: () throws -> WeightMatrix
            var floats: () throws -> [Float]
        }

        var path: String
        var name: (Role, Int?) -> String
        /// The tensor called so, nil when absent.
        var read: (String) throws -> Tensor?
        var allNames: [String]
        /// Expert matrices one by one (Hugging Face): the name of (role, layer, expert); nil when
        /// each role's experts are stacked in one tensor (GGUF).
        var expertName: ((Role, Int, Int) -> String)? = nil
    }

    /// Loads a GGUF file or a Hugging Face directory (a directory, its `config.json` or a
    /// `.safetensors` file in it).
    public init(contentsOf url: URL) throws {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        if isDirectory.boolValue || url.pathExtension == "safetensors" || url.lastPathComponent == "config.json" {
            let directory = isDirectory.boolValue ? url : url.deletingLastPathComponent()
            try self.init(safetensors: try SafetensorsCheckpoint(contentsOf: directory))
        } else {
            try self.init(gguf: try GGUFFile(contentsOf: url))
        }
    }

    /// This model with every weight matrix quantized to `type` as `llama-quantize` would write it
    /// (``GGUFQuantization``'s plan: the output matrix, or the token embedding when the output is
    /// tied to it, becomes Q6_K or Q8_0 unless `pure`; rows that do not hold whole blocks fall
    /// back) — a quantized copy in memory, without writing a file. `lazily`: each matrix is
    /// quantized when it is first used (a drift shard with no chunk to run, or a resumed run that
    /// has them all, quantizes nothing).
    /// - Throws: ``ModelError/unsupportedQuantization(type:supported:)`` for a type the quantizer lacks.
    public func quantized(_ type: GGMLType, pure: Bool = false, lazily: Bool = false) throws -> LlamaModel {
        guard Quantizer.supportedTypes.contains(type) else {
            throw ModelError.unsupportedQuantization(type: type.description, supported: Quantizer.supportedTypes.map(\.description))
        }
        let plan = GGUFQuantization(type: type, pure: pure)
        let tied = output.sharesStorage(with: embedding)
        func convert(_ matrix: WeightMatrix, _ role: Role, _ layer: Int?) throws -> WeightMatrix {
            let target = plan.targetType(name: role.ggufName(layer), rowLength: matrix.columns, hasOutput: !tied) ?? type
            guard let converted = matrix.converted(to: target, lazily: lazily) else {
                throw ModelError.unsupportedQuantization(type: target.description, supported: Quantizer.supportedTypes.map(\.description))
            }
            return converted
        }
        var copy = self
        copy.weightQuantization = type
        copy.layers = try layers.enumerated().map { i, layer in
            var l = layer
            l.q = try layer.q.map { try convert($0, .q, i) }
            l.k = try layer.k.map { try convert($0, .k, i) }
            l.v = try layer.v.map { try convert($0, .v, i) }
            if var latent = layer.latent {
                // As llama-quantize: where no type of the plan fits the rows (heads of 16), they stay.
                latent.keyUp = (try? convert(latent.keyUp, .kB, i)) ?? latent.keyUp
                latent.valueUp = (try? convert(latent.valueUp, .vB, i)) ?? latent.valueUp
                latent.qA = try latent.qA.map { try convert($0, .qA, i) }
                latent.qB = try latent.qB.map { try convert($0, .qB, i) }
                latent.q = try latent.q.map { try convert($0, .q, i) }
                latent.kvA = try convert(latent.kvA, .kvA, i)
                l.latent = latent
            }
            l.output = try convert(layer.output, .attentionOutput, i)
            let convertRole = { (matrix: WeightMatrix, role: Role) in try convert(matrix, role, i) }
            l.feedForward = try layer.feedForward?.converted(convertRole, roles: (.gate, .up, .down))
            if var mixture = layer.experts {
                // The router stays as it is (llama-quantize keeps ffn_gate_inp in F32).
                mixture.experts = try mixture.experts.map { try $0.converted(convertRole, roles: (.expertGate, .expertUp, .expertDown)) }
                mixture.shared = try mixture.shared?.converted(convertRole, roles: (.sharedGate, .sharedUp, .sharedDown))
                l.experts = mixture
            }
            return l
        }
        copy.embedding = try convert(embedding, .embedding, nil)
        copy.output = tied ? copy.embedding : try convert(output, .output, nil)
        return copy
    }

    /// Whether matrices of a copy quantized lazily (``quantized(_:pure:lazily:)``) are still to be quantized.
    public var quantizationPending: Bool {
        embedding.conversionPending || output.conversionPending || layers.contains { $0.output.conversionPending }
    }

    /// Throws ``ModelError/contextTooLong(path:context:trained:)`` when `context` exceeds the trained length.
    public func checkContext(_ context: Int, path: String) throws {
        if let trained = configuration.trainedContext, context > trained {
            throw ModelError.contextTooLong(path: path, context: context, trained: trained)
        }
    }

    /// Logits of a chunk that starts at position 0: the rows of `rows` (all by default), each
    /// `vocabulary` long, row-major. Only those rows go through the output projection.
    public func logits(_ tokens: [Int], rows: Range<Int>? = nil) -> [Float] {
        var cache = KVCache(for: self)
        return forward(tokens, cache: &cache, outputRows: rows)
    }

    /// Runs `tokens` at the positions after those in `cache`, appends their keys and values, and
    /// returns the logits of the rows in `outputRows` (all rows by default; indices into `tokens`),
    /// `vocabulary` values each. One token goes through GEMV, a chunk through GEMM.
    public func forward(_ tokens: [Int], cache: inout KVCache, outputRows: Range<Int>? = nil) -> [Float] {
        let c = configuration, n = tokens.count, e = c.embedding, start = cache.count
        var x = [Float]()
        x.reserveCapacity(n * e)
        for token in tokens { x += embedding.row(token) }
        if let scale = c.embeddingScale { for i in x.indices { x[i] *= scale } }
        let positions = Array(start..<(start + n))
        // The rotations' cosines and sines, made once for all layers (one table for Gemma 3's local
        // layers, another for the rest).
        var rotaryTables: [Bool: Kernels.RotaryTable] = [:]
        for (index, layer) in layers.enumerated() {
            let sliding = c.isSliding(index)
            // Gemma 3's local layers rotate with their own base and no position scale.
            let local = sliding && c.localRopeBase != nil
            let ropeBase = local ? c.localRopeBase! : c.ropeBase, positionScale = local ? 1 : c.ropePositionScale
            let h = Kernels.rmsNorm(x, weight: layer.attentionNorm, dimension: e, epsilon: c.epsilon)
            let ggml = numerics == .ggml
            let attention: [Float]
            if let latent = layer.latent, let sizes = c.latent {
                attention = latent.apply(
                    h, rows: n, positions: positions, cache: &cache.keys[index], start: start, sizes: sizes, heads: c.heads,
                    scale: c.attentionScale ?? 1 / Float(sizes.qkDimension).squareRoot(), epsilon: c.epsilon,
                    rope: { values, positions, heads in
                        Kernels.rope(&values, positions: positions, heads: heads, headDimension: sizes.ropeDimension, rotaryDimension: sizes.ropeDimension,
                                     base: ropeBase, neox: c.ropeNeoX, positionScale: positionScale, frequencyFactors: c.ropeFrequencyFactors,
                                     magnitude: c.ropeAttentionFactor)
                    }, ggml: ggml)
            } else {
                let table = rotaryTables[local] ?? Kernels.RotaryTable(
                    positions: positions, rotaryDimension: c.rotaryDimension, base: ropeBase, positionScale: positionScale,
                    frequencyFactors: c.ropeFrequencyFactors, magnitude: c.ropeAttentionFactor)
                rotaryTables[local] = table
                attention = standardAttention(layer, h, rows: n, rotary: table, cache: &cache, index: index, start: start, sliding: sliding, ggml: ggml)
            }
            var projected = layer.output.linear(attention, rows: n, ggml: ggml)
            if let norm = layer.postAttentionNorm { projected = Kernels.rmsNorm(projected, weight: norm, dimension: e, epsilon: c.epsilon) }
            for i in 0..<x.count { x[i] += projected[i] }
            let h2 = Kernels.rmsNorm(x, weight: layer.ffnNorm, dimension: e, epsilon: c.epsilon)
            var down = layer.experts?.apply(h2, rows: n, embedding: e, ggml: ggml, activation: c.activation)
                ?? layer.feedForward!.apply(h2, rows: n, ggml: ggml, activation: c.activation)
            if let norm = layer.postFFNNorm { down = Kernels.rmsNorm(down, weight: norm, dimension: e, epsilon: c.epsilon) }
            for i in 0..<x.count { x[i] += down[i] }
        }
        cache.advance(by: n)
        let rows = outputRows ?? 0..<n
        precondition(rows.lowerBound >= 0 && rows.upperBound <= n, "output rows out of range")
        let selected = rows == 0..<n ? x : Array(x[(rows.lowerBound * e)..<(rows.upperBound * e)])
        let final = Kernels.rmsNorm(selected, weight: outputNorm, dimension: e, epsilon: c.epsilon)
        var logits = output.linear(final, rows: rows.count, ggml: numerics == .ggml)
        if let cap = c.finalSoftCap { for i in logits.indices { logits[i] = cap * tanh(logits[i] / cap) } }
        return logits
    }

    /// Grouped-query attention of one layer: Q/K/V projections (+ biases, head norms), RoPE, the
    /// new keys and values appended to the cache; the heads' outputs (n × heads·headDimension).
    func standardAttention(_ layer: Layer, _ h: [Float], rows n: Int, rotary: Kernels.RotaryTable, cache: inout KVCache, index: Int, start: Int,
                           sliding: Bool, ggml: Bool) -> [Float] {
            let c = configuration, d = c.headDimension, kvWidth = c.kvHeads * d, width = c.heads * d
            var q = layer.q!.linear(h, rows: n, ggml: ggml)
            var k = layer.k!.linear(h, rows: n, ggml: ggml)
            var v = layer.v!.linear(h, rows: n, ggml: ggml)
            if let b = layer.qBias { Kernels.addRowVector(&q, b) }
            if let b = layer.kBias { Kernels.addRowVector(&k, b) }
            if let b = layer.vBias { Kernels.addRowVector(&v, b) }
            // Qwen3: every head of Q and K normalized on its own (rows of headDimension values).
            if let norm = layer.qNorm { q = Kernels.rmsNorm(q, weight: norm, dimension: d, epsilon: c.epsilon) }
            if let norm = layer.kNorm { k = Kernels.rmsNorm(k, weight: norm, dimension: d, epsilon: c.epsilon) }
            Kernels.rope(&q, table: rotary, heads: c.heads, headDimension: d, neox: c.ropeNeoX)
            Kernels.rope(&k, table: rotary, heads: c.kvHeads, headDimension: d, neox: c.ropeNeoX)
            if ggml {
                // The KV cache holds f16; Q meets K (f16) as f16.
                k = ActivationRounding.f16.apply(k, rowLength: kvWidth)
                v = ActivationRounding.f16.apply(v, rowLength: kvWidth)
                q = ActivationRounding.f16.apply(q, rowLength: width)
            }
            cache.append(layer: index, keys: k, values: v)
            if n == 1 {
                return cache.withStoredRows(layer: index) { keys, values, half, count in
                    precondition(count == (start + 1) * kvWidth, "KV cache rows")
                    return Attention.decoding(q: q, keys: keys, values: values, half: half, start: start, f16Probabilities: ggml,
                                              heads: c.heads, kvHeads: c.kvHeads, headDimension: d, window: sliding ? c.slidingWindow : nil,
                                              scale: c.attentionScale, softCap: c.attentionSoftCap)
                }
            }
            let (keys, values) = cache.attentionInputs(layer: index)
            return Attention.causal(q: q, keys: keys, values: values, start: start, n: n, f16Probabilities: ggml,
                                    heads: c.heads, kvHeads: c.kvHeads, headDimension: d, window: sliding ? c.slidingWindow : nil,
                                    scale: c.attentionScale, softCap: c.attentionSoftCap)
    }
}
