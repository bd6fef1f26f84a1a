import AssayCheckpoint
import AssayTensor
import Foundation

/// The Llama family — Llama (Llama 3's rope scaling included; also DeepSeek-R1-Distill-Llama),
/// SmolLM, Mistral (its sliding window from `config.json`), Qwen2 (with Q/K/V biases; also
/// DeepSeek-R1-Distill-Qwen), Qwen3 (RMSNorm over each head of Q and K), Phi-3 (fused
/// projections), Gemma 1/2/3, mixtures of experts (Mixtral, Qwen2-MoE, Qwen3-MoE; see
/// ``Configuration`` for what each adds) — from GGUF or from a
/// Hugging Face directory (`config.json` + safetensors), following llama.cpp's
/// `llm_build_llama`/`llm_build_qwen2`/`llm_build_qwen3`: RMSNorm → Q/K/V projections (+ bias) → RoPE → grouped-query
/// causal attention → output projection, residual; RMSNorm → SwiGLU feed-forward, residual; final
/// RMSNorm and the output projection (tied to the token embedding when there is none).
///
/// Weight matrices stay in the type they are stored in, referenced in place in the mapped file
/// (``WeightMatrix``): one token goes through the quantized matrix-vector kernels, a chunk through
/// `cblas_sgemm` on panels of dequantized rows. Loading reads metadata and norms only. The loader
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

        /// Whether layer `index` attends through the sliding window.
        func isSliding(_ index: Int) -> Bool { slidingWindow != nil && (slidingLayers?[index] ?? true) }
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
        /// before they meet V, GELU through ggml's f16 table.
        case ggml
    }

    /// Architectures the loader knows (GGUF `general.architecture`, HF `model_type`; Mistral's
    /// and Mixtral's GGUFs say `llama`; Gemma 3's text-only `config.json` says `gemma3_text`, the
    /// Qwen mixtures' `qwen2_moe`/`qwen3_moe`).
    public static let supportedArchitectures = ["llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen2moe", "qwen3moe", "phi3", "gemma", "gemma2", "gemma3"]

    struct Layer: Sendable {
        var attentionNorm: [Float], q: WeightMatrix, k: WeightMatrix, v: WeightMatrix, output: WeightMatrix
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

    /// Reads every weight through `source`, checking shapes and that nothing is left unused.
    init(configuration c: Configuration, source: WeightSource) throws {
        var used = Set<String>()
        func tensor(_ role: Role, _ layer: Int?, _ shape: [Int]) throws -> WeightSource.Tensor? {
            let name = source.name(role, layer)
            guard let found = try source.read(name) else { return nil }
            guard found.shape == shape else { throw ModelError.wrongShape(path: source.path, name: name, expected: shape, found: found.shape) }
            used.insert(name)
            return found
        }
        func required(_ role: Role, _ layer: Int?, _ shape: [Int]) throws -> WeightSource.Tensor {
            guard let found = try tensor(role, layer, shape) else { throw ModelError.missingTensor(path: source.path, name: source.name(role, layer)) }
            return found
        }
        func vector(_ role: Role, _ layer: Int?, _ n: Int) throws -> [Float] { try required(role, layer, [n]).floats() }
        func bias(_ role: Role, _ layer: Int?, _ n: Int) throws -> [Float]? { try tensor(role, layer, [n])?.floats() }
        func matrix(_ role: Role, _ layer: Int?, _ rows: Int, _ columns: Int) throws -> WeightMatrix {
            try required(role, layer, [rows, columns]).matrix()
        }
        func named(_ name: String, _ shape: [Int]) throws -> WeightSource.Tensor {
            guard let found = try source.read(name) else { throw ModelError.missingTensor(path: source.path, name: name) }
            guard found.shape == shape else { throw ModelError.wrongShape(path: source.path, name: name, expected: shape, found: found.shape) }
            used.insert(name)
            return found
        }
        /// Layer `i`'s experts: stacked (rows of one tensor per role) or one matrix each.
        func mixture(_ i: Int) throws -> MixtureOfExperts {
            let count = c.experts, e = c.embedding, f = c.expertFeedForward ?? c.feedForward
            var experts: [FeedForward]
            if let expertName = source.expertName {
                experts = try (0..<count).map { x in
                    FeedForward(gate: try named(expertName(.expertGate, i, x), [f, e]).matrix(), up: try named(expertName(.expertUp, i, x), [f, e]).matrix(),
                                down: try named(expertName(.expertDown, i, x), [e, f]).matrix())
                }
            } else {
                let gates = try required(.expertGate, i, [count, f, e]).matrix(), ups = try required(.expertUp, i, [count, f, e]).matrix()
                let downs = try required(.expertDown, i, [count, e, f]).matrix()
                experts = (0..<count).map { x in
                    FeedForward(gate: gates.rows((x * f)..<((x + 1) * f)), up: ups.rows((x * f)..<((x + 1) * f)), down: downs.rows((x * e)..<((x + 1) * e)))
                }
            }
            var mixture = MixtureOfExperts(router: try matrix(.router, i, count, e), experts: experts, used: c.expertsUsed, normalize: c.normalizeExpertWeights)
            if let shared = c.sharedExpertFeedForward {
                mixture.shared = FeedForward(gate: try matrix(.sharedGate, i, shared, e), up: try matrix(.sharedUp, i, shared, e),
                                             down: try matrix(.sharedDown, i, e, shared))
                // A vector in GGUF, a 1 × embedding matrix in Hugging Face checkpoints.
                let name = source.name(.sharedExpertGate, i)
                guard let gate = try source.read(name) else { throw ModelError.missingTensor(path: source.path, name: name) }
                guard gate.shape == [e] || gate.shape == [1, e] else { throw ModelError.wrongShape(path: source.path, name: name, expected: [e], found: gate.shape) }
                used.insert(name)
                mixture.sharedGate = gate.shape == [e] ? try gate.floats() : try gate.matrix().dequantized()
            }
            return mixture
        }
        let e = c.embedding, width = c.heads * c.headDimension, kv = c.kvHeads * c.headDimension, f = c.feedForward
        embedding = try matrix(.embedding, nil, c.vocabulary, e)
        layers = try (0..<c.layers).map { i in
            let attentionNorm = try vector(.attentionNorm, i, e)
            var q: WeightMatrix, k: WeightMatrix, v: WeightMatrix, feedForward: FeedForward?
            if c.fusedProjections {
                // Phi-3: rows [Q | K | V] and [gate | up], referenced in place.
                let qkv = try matrix(.qkv, i, width + 2 * kv, e)
                (q, k, v) = (qkv.rows(0..<width), qkv.rows(width..<(width + kv)), qkv.rows((width + kv)..<(width + 2 * kv)))
                let gateUp = try matrix(.gateUp, i, 2 * f, e)
                feedForward = FeedForward(gate: gateUp.rows(0..<f), up: gateUp.rows(f..<(2 * f)), down: try matrix(.down, i, e, f))
            } else {
                (q, k, v) = (try matrix(.q, i, width, e), try matrix(.k, i, kv, e), try matrix(.v, i, kv, e))
                feedForward = c.experts > 0 ? nil
                    : FeedForward(gate: try matrix(.gate, i, f, e), up: try matrix(.up, i, f, e), down: try matrix(.down, i, e, f))
            }
            return Layer(attentionNorm: attentionNorm, q: q, k: k, v: v,
                         output: try matrix(.attentionOutput, i, e, width),
                         qBias: try bias(.qBias, i, width), kBias: try bias(.kBias, i, kv), vBias: try bias(.vBias, i, kv),
                         qNorm: c.headNorms ? try vector(.qNorm, i, c.headDimension) : nil,
                         kNorm: c.headNorms ? try vector(.kNorm, i, c.headDimension) : nil,
                         ffnNorm: try vector(.ffnNorm, i, e), feedForward: feedForward, experts: c.experts > 0 ? try mixture(i) : nil,
                         postAttentionNorm: c.postNorms ? try vector(.postAttentionNorm, i, e) : nil,
                         postFFNNorm: c.postNorms ? try vector(.postFFNNorm, i, e) : nil)
        }
        outputNorm = try vector(.outputNorm, nil, e)
        output = try tensor(.output, nil, [c.vocabulary, e])?.matrix() ?? embedding
        let unused = source.allNames.filter { !used.contains($0) }
        guard unused.isEmpty else { throw ModelError.unusedTensors(path: source.path, names: unused) }
        configuration = c
    }

    /// This model with every weight matrix quantized to `type` as `llama-quantize` would write it
    /// (``GGUFQuantization``'s plan: the output matrix, or the token embedding when the output is
    /// tied to it, becomes Q6_K or Q8_0 unless `pure`; rows that do not hold whole blocks fall
    /// back) — a quantized copy in memory, without writing a file.
    /// - Throws: ``ModelError/unsupportedQuantization(type:supported:)`` for a type the quantizer lacks.
    public func quantized(_ type: GGMLType, pure: Bool = false) throws -> LlamaModel {
        guard Quantizer.supportedTypes.contains(type) else {
            throw ModelError.unsupportedQuantization(type: type.description, supported: Quantizer.supportedTypes.map(\.description))
        }
        let plan = GGUFQuantization(type: type, pure: pure)
        let tied = output.sharesStorage(with: embedding)
        func convert(_ matrix: WeightMatrix, _ role: Role, _ layer: Int?) throws -> WeightMatrix {
            let target = plan.targetType(name: role.ggufName(layer), rowLength: matrix.columns, hasOutput: !tied) ?? type
            guard let converted = matrix.converted(to: target) else {
                throw ModelError.unsupportedQuantization(type: target.description, supported: Quantizer.supportedTypes.map(\.description))
            }
            return converted
        }
        var copy = self
        copy.weightQuantization = type
        copy.layers = try layers.enumerated().map { i, layer in
            var l = layer
            l.q = try convert(layer.q, .q, i)
            l.k = try convert(layer.k, .k, i)
            l.v = try convert(layer.v, .v, i)
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
        let c = configuration, n = tokens.count, e = c.embedding, d = c.headDimension, start = cache.count
        let kvWidth = c.kvHeads * d, width = c.heads * d
        var x = [Float]()
        x.reserveCapacity(n * e)
        for token in tokens { x += embedding.row(token) }
        if let scale = c.embeddingScale { for i in x.indices { x[i] *= scale } }
        let positions = Array(start..<(start + n))
        for (index, layer) in layers.enumerated() {
            let sliding = c.isSliding(index)
            // Gemma 3's local layers rotate with their own base and no position scale.
            let local = sliding && c.localRopeBase != nil
            let ropeBase = local ? c.localRopeBase! : c.ropeBase, positionScale = local ? 1 : c.ropePositionScale
            let h = Kernels.rmsNorm(x, weight: layer.attentionNorm, dimension: e, epsilon: c.epsilon)
            let ggml = numerics == .ggml
            var q = layer.q.linear(h, rows: n, ggml: ggml)
            var k = layer.k.linear(h, rows: n, ggml: ggml)
            var v = layer.v.linear(h, rows: n, ggml: ggml)
            if let b = layer.qBias { Kernels.addRowVector(&q, b) }
            if let b = layer.kBias { Kernels.addRowVector(&k, b) }
            if let b = layer.vBias { Kernels.addRowVector(&v, b) }
            // Qwen3: every head of Q and K normalized on its own (rows of headDimension values).
            if let norm = layer.qNorm { q = Kernels.rmsNorm(q, weight: norm, dimension: d, epsilon: c.epsilon) }
            if let norm = layer.kNorm { k = Kernels.rmsNorm(k, weight: norm, dimension: d, epsilon: c.epsilon) }
            Kernels.rope(&q, positions: positions, heads: c.heads, headDimension: d, rotaryDimension: c.rotaryDimension, base: ropeBase,
                         neox: c.ropeNeoX, positionScale: positionScale, frequencyFactors: c.ropeFrequencyFactors)
            Kernels.rope(&k, positions: positions, heads: c.kvHeads, headDimension: d, rotaryDimension: c.rotaryDimension, base: ropeBase,
                         neox: c.ropeNeoX, positionScale: positionScale, frequencyFactors: c.ropeFrequencyFactors)
            if ggml {
                // The KV cache holds f16; Q meets K (f16) as f16.
                k = ActivationRounding.f16.apply(k, rowLength: kvWidth)
                v = ActivationRounding.f16.apply(v, rowLength: kvWidth)
                q = ActivationRounding.f16.apply(q, rowLength: width)
            }
            cache.append(layer: index, keys: k, values: v)
            let attention = Attention.causal(q: q, keys: cache.keys[index], values: cache.values[index], start: start, n: n, f16Probabilities: ggml,
                                           heads: c.heads, kvHeads: c.kvHeads, headDimension: d, window: sliding ? c.slidingWindow : nil,
                                           scale: c.attentionScale, softCap: c.attentionSoftCap)
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
}
