import AssayCheckpoint
import AssayTensor
import Foundation

/// The Llama family (Llama, SmolLM, Mistral-style GQA) read from GGUF, following llama.cpp's
/// `llm_build_llama`: RMSNorm → Q/K/V projections → RoPE (normal layout) → grouped-query causal
/// attention → output projection, residual; RMSNorm → SwiGLU feed-forward, residual; final
/// RMSNorm and the output projection (tied to the token embedding when `output.weight` is absent).
///
/// First step of the engine: weights are dequantized to f32 at load and a whole chunk goes through
/// `cblas_sgemm` per projection.
public struct LlamaModel: Sendable {
    /// Hyper-parameters from the GGUF metadata.
    public struct Configuration: Sendable, Equatable {
        public var layers: Int
        public var embedding: Int
        public var feedForward: Int
        public var heads: Int
        public var kvHeads: Int
        public var headDimension: Int
        public var rotaryDimension: Int
        public var ropeBase: Float
        public var epsilon: Float
        public var vocabulary: Int
        /// `llama.context_length`: the longest context the model was trained for (nil if absent).
        public var trainedContext: Int?
    }

    struct Layer: Sendable {
        var attentionNorm: [Float], q: [Float], k: [Float], v: [Float], output: [Float]
        var ffnNorm: [Float], gate: [Float], up: [Float], down: [Float]
    }

    public let configuration: Configuration
    let embedding: [Float]
    let layers: [Layer]
    let outputNorm: [Float]
    let output: [Float]

    /// Loads and dequantizes the weights of a Llama-architecture GGUF file.
    /// - Throws: ``ModelError`` for another architecture, missing metadata, or a missing, unused or
    ///   mis-shaped tensor.
    public init(gguf file: GGUFFile) throws {
        let path = file.url.path
        let arch = file.value("general.architecture")?.string ?? "?"
        guard arch == "llama" else { throw ModelError.unsupportedArchitecture(path: path, name: arch, supported: ["llama"]) }
        func int(_ key: String) throws -> Int {
            guard let v = file.value("llama.\(key)")?.integer else { throw ModelError.missingMetadata(path: path, key: "llama.\(key)") }
            return Int(v)
        }
        let embedding = try int("embedding_length"), heads = try int("attention.head_count")
        let headDimension = embedding / heads
        let configuration = Configuration(
            layers: try int("block_count"), embedding: embedding, feedForward: try int("feed_forward_length"), heads: heads,
            kvHeads: (try? int("attention.head_count_kv")) ?? heads, headDimension: headDimension,
            rotaryDimension: (try? int("rope.dimension_count")) ?? headDimension,
            ropeBase: Float(file.value("llama.rope.freq_base")?.number ?? 10000),
            epsilon: Float(file.value("llama.attention.layer_norm_rms_epsilon")?.number ?? 1e-5),
            vocabulary: file.value("tokenizer.ggml.tokens")?.array?.count ?? 0,
            trainedContext: try? int("context_length"))
        var used = Set<String>()
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let info = file.tensor(name) else { throw ModelError.missingTensor(path: path, name: name) }
            guard info.dimensions == shape else { throw ModelError.wrongShape(path: path, name: name, expected: shape, found: info.dimensions) }
            used.insert(name)
            return try file.floats(info)
        }
        let e = configuration.embedding, kv = configuration.kvHeads * configuration.headDimension, f = configuration.feedForward
        self.embedding = try tensor("token_embd.weight", [e, configuration.vocabulary])
        layers = try (0..<configuration.layers).map { i in
            let p = "blk.\(i)."
            return Layer(attentionNorm: try tensor(p + "attn_norm.weight", [e]), q: try tensor(p + "attn_q.weight", [e, e]),
                         k: try tensor(p + "attn_k.weight", [e, kv]), v: try tensor(p + "attn_v.weight", [e, kv]),
                         output: try tensor(p + "attn_output.weight", [e, e]), ffnNorm: try tensor(p + "ffn_norm.weight", [e]),
                         gate: try tensor(p + "ffn_gate.weight", [e, f]), up: try tensor(p + "ffn_up.weight", [e, f]),
                         down: try tensor(p + "ffn_down.weight", [f, e]))
        }
        outputNorm = try tensor("output_norm.weight", [e])
        output = file.tensor("output.weight") != nil ? try tensor("output.weight", [e, configuration.vocabulary]) : self.embedding
        let unused = file.tensors.map(\.name).filter { !used.contains($0) && !$0.hasPrefix("rope_") }
        guard unused.isEmpty else { throw ModelError.unusedTensors(path: path, names: unused) }
        self.configuration = configuration
    }

    /// Keys and values of the positions seen so far, per layer (`positions × kvHeads·headDimension`).
    public struct KVCache: Sendable {
        var keys: [[Float]]
        var values: [[Float]]
        /// Positions cached.
        public private(set) var count = 0

        /// An empty cache for `model`.
        public init(for model: LlamaModel) {
            keys = Array(repeating: [], count: model.configuration.layers)
            values = Array(repeating: [], count: model.configuration.layers)
        }

        mutating func append(layer: Int, keys k: [Float], values v: [Float]) {
            keys[layer] += k
            values[layer] += v
        }

        mutating func advance(by n: Int) { count += n }
    }

    /// Causal grouped-query attention of `n` new positions starting at `start` over every cached
    /// position, batched per head on GEMM: softmax(Q_h K_gᵀ / √d + causal mask) V_g.
    static func attention(q: [Float], keys: [Float], values: [Float], start: Int, n: Int, heads: Int, kvHeads: Int, headDimension d: Int) -> [Float] {
        let width = heads * d, kvWidth = kvHeads * d, group = heads / kvHeads, total = start + n
        let scale = 1 / Float(d).squareRoot()
        func gather(_ x: [Float], _ head: Int, _ rows: Int, _ rowWidth: Int) -> [Float] {
            var out = [Float](repeating: 0, count: rows * d)
            for i in 0..<rows { for t in 0..<d { out[i * d + t] = x[i * rowWidth + head * d + t] } }
            return out
        }
        let cachedKeys = (0..<kvHeads).map { gather(keys, $0, total, kvWidth) }
        let cachedValues = (0..<kvHeads).map { gather(values, $0, total, kvWidth) }
        var output = [Float](repeating: 0, count: n * width)
        for head in 0..<heads {
            let g = head / group
            var scores = BLAS.matmulTransposed(gather(q, head, n, width), cachedKeys[g], m: n, n: total, k: d)
            for i in 0..<n {
                let visible = start + i + 1
                for j in 0..<visible { scores[i * total + j] *= scale }
                Kernels.softmax(&scores, (i * total)..<(i * total + visible))
                for j in visible..<max(visible, total) { scores[i * total + j] = 0 }
            }
            let context = BLAS.matmul(scores, cachedValues[g], m: n, n: d, k: total)
            for i in 0..<n { for t in 0..<d { output[i * width + head * d + t] = context[i * d + t] } }
        }
        return output
    }

    /// Throws ``ModelError/contextTooLong(path:context:trained:)`` when `context` exceeds the trained length.
    public func checkContext(_ context: Int, path: String) throws {
        if let trained = configuration.trainedContext, context > trained {
            throw ModelError.contextTooLong(path: path, context: context, trained: trained)
        }
    }

    /// Logits (`tokens.count × vocabulary`, row-major) of a chunk that starts at position 0.
    public func logits(_ tokens: [Int]) -> [Float] {
        var cache = KVCache(for: self)
        return forward(tokens, cache: &cache)
    }

    /// Runs `tokens` at the positions after those in `cache`, appends their keys and values, and
    /// returns their logits (`tokens.count × vocabulary`). One token goes through GEMV, a chunk
    /// through GEMM.
    public func forward(_ tokens: [Int], cache: inout KVCache) -> [Float] {
        let c = configuration, n = tokens.count, e = c.embedding, d = c.headDimension, start = cache.count
        let kvWidth = c.kvHeads * d
        var x = [Float](repeating: 0, count: n * e)
        for (row, token) in tokens.enumerated() {
            for i in 0..<e { x[row * e + i] = embedding[token * e + i] }
        }
        let positions = Array(start..<(start + n))
        for (index, layer) in layers.enumerated() {
            let h = Kernels.rmsNorm(x, weight: layer.attentionNorm, dimension: e, epsilon: c.epsilon)
            var q = BLAS.linear(h, layer.q, rows: n, outputs: e, inputs: e)
            var k = BLAS.linear(h, layer.k, rows: n, outputs: kvWidth, inputs: e)
            let v = BLAS.linear(h, layer.v, rows: n, outputs: kvWidth, inputs: e)
            Kernels.rope(&q, positions: positions, heads: c.heads, headDimension: d, rotaryDimension: c.rotaryDimension, base: c.ropeBase)
            Kernels.rope(&k, positions: positions, heads: c.kvHeads, headDimension: d, rotaryDimension: c.rotaryDimension, base: c.ropeBase)
            cache.append(layer: index, keys: k, values: v)
            let attention = Self.attention(q: q, keys: cache.keys[index], values: cache.values[index], start: start, n: n,
                                           heads: c.heads, kvHeads: c.kvHeads, headDimension: d)
            let projected = BLAS.linear(attention, layer.output, rows: n, outputs: e, inputs: e)
            for i in 0..<x.count { x[i] += projected[i] }
            let h2 = Kernels.rmsNorm(x, weight: layer.ffnNorm, dimension: e, epsilon: c.epsilon)
            let gate = BLAS.linear(h2, layer.gate, rows: n, outputs: c.feedForward, inputs: e)
            let up = BLAS.linear(h2, layer.up, rows: n, outputs: c.feedForward, inputs: e)
            let down = BLAS.linear(Kernels.swiglu(gate: gate, up: up), layer.down, rows: n, outputs: e, inputs: c.feedForward)
            for i in 0..<x.count { x[i] += down[i] }
        }
        cache.advance(by: n)
        let final = Kernels.rmsNorm(x, weight: outputNorm, dimension: e, epsilon: c.epsilon)
        return BLAS.linear(final, output, rows: n, outputs: c.vocabulary, inputs: e)
    }
}

/// Errors loading or running a model.
public enum ModelError: Error, LocalizedError, Equatable, Sendable {
    case unsupportedArchitecture(path: String, name: String, supported: [String])
    case missingMetadata(path: String, key: String)
    case missingTensor(path: String, name: String)
    case wrongShape(path: String, name: String, expected: [Int], found: [Int])
    case unusedTensors(path: String, names: [String])
    case textTooShort(tokens: Int, context: Int)
    case contextTooLong(path: String, context: Int, trained: Int)
    case emptyDocument(path: String, line: Int?)
    case malformedDocument(path: String, line: Int, message: String)
    case emptyPrompt

    public var errorDescription: String? {
        switch self {
        case let .unsupportedArchitecture(path, name, supported):
            return "\(path): architecture '\(name)' is not supported (supported: \(supported.joined(separator: ", ")))"
        case let .missingMetadata(path, key): return "\(path): metadata '\(key)' is missing"
        case let .missingTensor(path, name): return "\(path): tensor '\(name)' is missing"
        case let .wrongShape(path, name, expected, found): return "\(path): tensor '\(name)' has shape \(found), expected \(expected)"
        case let .unusedTensors(path, names):
            return "\(path): \(names.count) tensor(s) are not used by the architecture: \(names.prefix(5).joined(separator: ", "))"
        case let .textTooShort(tokens, context): return "the text has \(tokens) tokens, fewer than two chunks of \(context)"
        case let .contextTooLong(path, context, trained):
            return "\(path): context \(context) is beyond the model's trained length (\(trained) tokens)"
        case let .emptyDocument(path, line):
            return line.map { "\(path):\($0): the document is empty" } ?? "\(path): there is no text to score"
        case let .malformedDocument(path, line, message): return "\(path):\(line): \(message)"
        case .emptyPrompt: return "the prompt has no tokens"
        }
    }

    public var recoverySuggestion: String? {
        switch self {
        case .unsupportedArchitecture: return "convert a supported model, or wait for the architecture to be added"
        case .textTooShort: return "use a longer text or a smaller context"
        case let .contextTooLong(_, _, trained): return "use --context \(trained) or less"
        case .emptyDocument: return "remove empty documents, or choose another split (file, paragraphs, lines, jsonl)"
        case .malformedDocument: return "each line must be a JSON object with the document text in the chosen field"
        default: return "the file does not look like a complete checkpoint of this architecture; convert it again"
        }
    }
}
