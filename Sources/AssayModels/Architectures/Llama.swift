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
            vocabulary: file.value("tokenizer.ggml.tokens")?.array?.count ?? 0)
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

    /// Causal grouped-query attention of a whole chunk, batched per head on GEMM:
    /// softmax(Q_h K_gᵀ / √d + causal mask) V_g, where g is the key/value head of query head h.
    static func causalAttention(q: [Float], k: [Float], v: [Float], positions n: Int, heads: Int, kvHeads: Int, headDimension d: Int) -> [Float] {
        let width = heads * d, kvWidth = kvHeads * d, group = heads / kvHeads
        let scale = 1 / Float(d).squareRoot()
        func gather(_ x: [Float], _ head: Int, _ rowWidth: Int) -> [Float] {
            var out = [Float](repeating: 0, count: n * d)
            for i in 0..<n { for t in 0..<d { out[i * d + t] = x[i * rowWidth + head * d + t] } }
            return out
        }
        var output = [Float](repeating: 0, count: n * width)
        var keys: [[Float]] = [], values: [[Float]] = []
        for g in 0..<kvHeads {
            keys.append(gather(k, g, kvWidth))
            values.append(gather(v, g, kvWidth))
        }
        for head in 0..<heads {
            let g = head / group
            var scores = BLAS.matmulTransposed(gather(q, head, width), keys[g], m: n, n: n, k: d)
            for i in 0..<n {
                for j in 0...i { scores[i * n + j] *= scale }
                for j in (i + 1)..<max(i + 1, n) { scores[i * n + j] = -.infinity }
                Kernels.softmax(&scores, (i * n)..<(i * n + i + 1))
                for j in (i + 1)..<max(i + 1, n) { scores[i * n + j] = 0 }
            }
            let context = BLAS.matmul(scores, values[g], m: n, n: d, k: n)
            for i in 0..<n { for t in 0..<d { output[i * width + head * d + t] = context[i * d + t] } }
        }
        return output
    }

    /// Logits (`tokens.count × vocabulary`, row-major) of a chunk that starts at position 0.
    public func logits(_ tokens: [Int]) -> [Float] {
        let c = configuration, n = tokens.count, e = c.embedding, d = c.headDimension
        let kvWidth = c.kvHeads * d
        var x = [Float](repeating: 0, count: n * e)
        for (row, token) in tokens.enumerated() {
            for i in 0..<e { x[row * e + i] = embedding[token * e + i] }
        }
        let positions = Array(0..<n)
        for layer in layers {
            let h = Kernels.rmsNorm(x, weight: layer.attentionNorm, dimension: e, epsilon: c.epsilon)
            var q = BLAS.matmulTransposed(h, layer.q, m: n, n: e, k: e)
            var k = BLAS.matmulTransposed(h, layer.k, m: n, n: kvWidth, k: e)
            let v = BLAS.matmulTransposed(h, layer.v, m: n, n: kvWidth, k: e)
            Kernels.rope(&q, positions: positions, heads: c.heads, headDimension: d, rotaryDimension: c.rotaryDimension, base: c.ropeBase)
            Kernels.rope(&k, positions: positions, heads: c.kvHeads, headDimension: d, rotaryDimension: c.rotaryDimension, base: c.ropeBase)
            let attention = Self.causalAttention(q: q, k: k, v: v, positions: n, heads: c.heads, kvHeads: c.kvHeads, headDimension: d)
            let projected = BLAS.matmulTransposed(attention, layer.output, m: n, n: e, k: e)
            for i in 0..<x.count { x[i] += projected[i] }
            let h2 = Kernels.rmsNorm(x, weight: layer.ffnNorm, dimension: e, epsilon: c.epsilon)
            let gate = BLAS.matmulTransposed(h2, layer.gate, m: n, n: c.feedForward, k: e)
            let up = BLAS.matmulTransposed(h2, layer.up, m: n, n: c.feedForward, k: e)
            let down = BLAS.matmulTransposed(Kernels.swiglu(gate: gate, up: up), layer.down, m: n, n: e, k: c.feedForward)
            for i in 0..<x.count { x[i] += down[i] }
        }
        let final = Kernels.rmsNorm(x, weight: outputNorm, dimension: e, epsilon: c.epsilon)
        return BLAS.matmulTransposed(final, output, m: n, n: c.vocabulary, k: e)
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
        }
    }

    public var recoverySuggestion: String? {
        switch self {
        case .unsupportedArchitecture: return "convert a supported model, or wait for the architecture to be added"
        case .textTooShort: return "use a longer text or a smaller context"
        default: return "the file does not look like a complete checkpoint of this architecture; convert it again"
        }
    }
}
