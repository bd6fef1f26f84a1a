import AssayCheckpoint
import AssayTensor
import Foundation

/// The Llama family — Llama (Llama 3's rope scaling included; also DeepSeek-R1-Distill-Llama),
/// SmolLM, Mistral (its sliding window from `config.json`), Qwen2 (with Q/K/V biases; also
/// DeepSeek-R1-Distill-Qwen), Qwen3 (RMSNorm over each head of Q and K) — from GGUF or from a
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
        /// `llama` or `qwen2`.
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
        /// RMSNorm over each head of Q and K before RoPE (Qwen3's `q_norm`/`k_norm`).
        public var headNorms: Bool = false
    }

    /// How the forward pass rounds.
    public enum Numerics: String, Sendable, CaseIterable {
        /// f32 activations and KV cache against the dequantized weights.
        case exact
        /// What llama.cpp's CPU backend computes: activations meeting a weight rounded to that
        /// weight's "vec_dot type" (Q8_0/Q8_1/Q8_K blocks, f16) — in decode by the same integer
        /// products ggml runs —, keys, values and queries in f16, attention probabilities in f16
        /// before they meet V.
        case ggml
    }

    /// Architectures the loader knows (GGUF `general.architecture`, HF `model_type`; Mistral's
    /// GGUFs say `llama`).
    public static let supportedArchitectures = ["llama", "mistral", "qwen2", "qwen3"]

    struct Layer: Sendable {
        var attentionNorm: [Float], q: WeightMatrix, k: WeightMatrix, v: WeightMatrix, output: WeightMatrix
        var qBias: [Float]?, kBias: [Float]?, vBias: [Float]?
        var qNorm: [Float]?, kNorm: [Float]?
        var ffnNorm: [Float], gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix
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

    /// The tensors of one layer or of the whole model, by role.
    enum Role: CaseIterable {
        case embedding, outputNorm, output
        case attentionNorm, q, k, v, attentionOutput, qBias, kBias, vBias, qNorm, kNorm, ffnNorm, gate, up, down

        func ggufName(_ layer: Int?) -> String {
            switch self {
            case .embedding: "token_embd.weight"
            case .outputNorm: "output_norm.weight"
            case .output: "output.weight"
            case .attentionNorm: "blk.\(layer!).attn_norm.weight"
            case .q: "blk.\(layer!).attn_q.weight"
            case .k: "blk.\(layer!).attn_k.weight"
            case .v: "blk.\(layer!).attn_v.weight"
            case .attentionOutput: "blk.\(layer!).attn_output.weight"
            case .qBias: "blk.\(layer!).attn_q.bias"
            case .kBias: "blk.\(layer!).attn_k.bias"
            case .vBias: "blk.\(layer!).attn_v.bias"
            case .qNorm: "blk.\(layer!).attn_q_norm.weight"
            case .kNorm: "blk.\(layer!).attn_k_norm.weight"
            case .ffnNorm: "blk.\(layer!).ffn_norm.weight"
            case .gate: "blk.\(layer!).ffn_gate.weight"
            case .up: "blk.\(layer!).ffn_up.weight"
            case .down: "blk.\(layer!).ffn_down.weight"
            }
        }

        func hfName(_ layer: Int?) -> String {
            let p = "model.layers.\(layer ?? 0)."
            return switch self {
            case .embedding: "model.embed_tokens.weight"
            case .outputNorm: "model.norm.weight"
            case .output: "lm_head.weight"
            case .attentionNorm: p + "input_layernorm.weight"
            case .q: p + "self_attn.q_proj.weight"
            case .k: p + "self_attn.k_proj.weight"
            case .v: p + "self_attn.v_proj.weight"
            case .attentionOutput: p + "self_attn.o_proj.weight"
            case .qBias: p + "self_attn.q_proj.bias"
            case .kBias: p + "self_attn.k_proj.bias"
            case .vBias: p + "self_attn.v_proj.bias"
            case .qNorm: p + "self_attn.q_norm.weight"
            case .kNorm: p + "self_attn.k_norm.weight"
            case .ffnNorm: p + "post_attention_layernorm.weight"
            case .gate: p + "mlp.gate_proj.weight"
            case .up: p + "mlp.up_proj.weight"
            case .down: p + "mlp.down_proj.weight"
            }
        }
    }

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
        let e = c.embedding, width = c.heads * c.headDimension, kv = c.kvHeads * c.headDimension, f = c.feedForward
        embedding = try matrix(.embedding, nil, c.vocabulary, e)
        layers = try (0..<c.layers).map { i in
            Layer(attentionNorm: try vector(.attentionNorm, i, e), q: try matrix(.q, i, width, e),
                  k: try matrix(.k, i, kv, e), v: try matrix(.v, i, kv, e),
                  output: try matrix(.attentionOutput, i, e, width),
                  qBias: try bias(.qBias, i, width), kBias: try bias(.kBias, i, kv), vBias: try bias(.vBias, i, kv),
                  qNorm: c.headNorms ? try vector(.qNorm, i, c.headDimension) : nil,
                  kNorm: c.headNorms ? try vector(.kNorm, i, c.headDimension) : nil,
                  ffnNorm: try vector(.ffnNorm, i, e), gate: try matrix(.gate, i, f, e),
                  up: try matrix(.up, i, f, e), down: try matrix(.down, i, e, f))
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
            l.gate = try convert(layer.gate, .gate, i)
            l.up = try convert(layer.up, .up, i)
            l.down = try convert(layer.down, .down, i)
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
        let positions = Array(start..<(start + n))
        for (index, layer) in layers.enumerated() {
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
            Kernels.rope(&q, positions: positions, heads: c.heads, headDimension: d, rotaryDimension: c.rotaryDimension, base: c.ropeBase,
                         neox: c.ropeNeoX, positionScale: c.ropePositionScale, frequencyFactors: c.ropeFrequencyFactors)
            Kernels.rope(&k, positions: positions, heads: c.kvHeads, headDimension: d, rotaryDimension: c.rotaryDimension, base: c.ropeBase,
                         neox: c.ropeNeoX, positionScale: c.ropePositionScale, frequencyFactors: c.ropeFrequencyFactors)
            if ggml {
                // The KV cache holds f16; Q meets K (f16) as f16.
                k = ActivationRounding.f16.apply(k, rowLength: kvWidth)
                v = ActivationRounding.f16.apply(v, rowLength: kvWidth)
                q = ActivationRounding.f16.apply(q, rowLength: width)
            }
            cache.append(layer: index, keys: k, values: v)
            let attention = Attention.causal(q: q, keys: cache.keys[index], values: cache.values[index], start: start, n: n, f16Probabilities: ggml,
                                           heads: c.heads, kvHeads: c.kvHeads, headDimension: d, window: c.slidingWindow)
            let projected = layer.output.linear(attention, rows: n, ggml: ggml)
            for i in 0..<x.count { x[i] += projected[i] }
            let h2 = Kernels.rmsNorm(x, weight: layer.ffnNorm, dimension: e, epsilon: c.epsilon)
            let gate = layer.gate.linear(h2, rows: n, ggml: ggml)
            let up = layer.up.linear(h2, rows: n, ggml: ggml)
            let activated = Kernels.swiglu(gate: gate, up: up)
            let down = layer.down.linear(activated, rows: n, ggml: ggml)
            for i in 0..<x.count { x[i] += down[i] }
        }
        cache.advance(by: n)
        let rows = outputRows ?? 0..<n
        precondition(rows.lowerBound >= 0 && rows.upperBound <= n, "output rows out of range")
        let selected = rows == 0..<n ? x : Array(x[(rows.lowerBound * e)..<(rows.upperBound * e)])
        let final = Kernels.rmsNorm(selected, weight: outputNorm, dimension: e, epsilon: c.epsilon)
        return output.linear(final, rows: rows.count, ggml: numerics == .ggml)
    }
}
