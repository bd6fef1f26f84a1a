import AssayTensor
import Foundation

/// A gated feed-forward block: down(act(gate · x) ⊙ (up · x)), SwiGLU or GeGLU.
struct FeedForward: Sendable {
    var gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix

    func apply(_ x: [Float], rows n: Int, ggml: Bool, activation: LlamaModel.Activation) -> [Float] {
        let gate = self.gate.linear(x, rows: n, ggml: ggml)
        let up = self.up.linear(x, rows: n, ggml: ggml)
        let activated = activation == .geluTanh ? Kernels.geglu(gate: gate, up: up, f16Table: ggml) : Kernels.swiglu(gate: gate, up: up)
        return down.linear(activated, rows: n, ggml: ggml)
    }

    /// Each matrix through `convert`, with the role it plays.
    func converted(_ convert: (WeightMatrix, LlamaModel.Role) throws -> WeightMatrix,
                   roles: (gate: LlamaModel.Role, up: LlamaModel.Role, down: LlamaModel.Role)) throws -> FeedForward {
        FeedForward(gate: try convert(gate, roles.gate), up: try convert(up, roles.up), down: try convert(down, roles.down))
    }
}

/// A mixture-of-experts feed-forward (Mixtral, Qwen2-MoE, Qwen3-MoE, as llama.cpp's
/// `build_moe_ffn` with softmax gating): the router's logits go through a softmax, the `used`
/// most probable experts run on the token — only those, each on the rows routed to it — and their
/// outputs are summed with the probabilities as weights (renormalized over the chosen experts when
/// `normalize`, as Mixtral and Qwen3-MoE do). Qwen2-MoE adds a shared expert that every token
/// goes through, scaled by sigmoid(sharedGate · x).
struct MixtureOfExperts: Sendable {
    /// experts × embedding.
    var router: WeightMatrix
    var experts: [FeedForward]
    var used: Int
    var normalize: Bool
    var shared: FeedForward? = nil
    var sharedGate: [Float]? = nil

    /// For each of the `n` rows of `x` (`embedding` wide), the chosen experts and their weights.
    func routes(_ x: [Float], rows n: Int, ggml: Bool) -> [[(expert: Int, weight: Float)]] {
        let count = experts.count
        let logits = router.linear(x, rows: n, ggml: ggml)
        return (0..<n).map { r in
            var probabilities = Array(logits[(r * count)..<((r + 1) * count)])
            Kernels.softmax(&probabilities, 0..<count)
            // The most probable first; on a tie the lower index, as a stable sort gives it.
            let chosen = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1) }
                .prefix(used)
            var weights = chosen.map { probabilities[$0] }
            if normalize {
                let sum = weights.reduce(0, +)
                weights = weights.map { $0 / sum }
            }
            return Array(zip(chosen, weights)).map { (expert: $0.0, weight: $0.1) }
        }
    }

    func apply(_ x: [Float], rows n: Int, embedding e: Int, ggml: Bool, activation: LlamaModel.Activation) -> [Float] {
        var output = [Float](repeating: 0, count: n * e)
        var assigned = [[(row: Int, weight: Float)]](repeating: [], count: experts.count)
        for (row, chosen) in routes(x, rows: n, ggml: ggml).enumerated() {
            for (expert, weight) in chosen { assigned[expert].append((row, weight)) }
        }
        for (expert, rows) in assigned.enumerated() where !rows.isEmpty {
            var gathered = [Float]()
            gathered.reserveCapacity(rows.count * e)
            for (row, _) in rows { gathered += x[(row * e)..<((row + 1) * e)] }
            let y = experts[expert].apply(gathered, rows: rows.count, ggml: ggml, activation: activation)
            for (k, (row, weight)) in rows.enumerated() {
                for j in 0..<e { output[row * e + j] += weight * y[k * e + j] }
            }
        }
        if let shared, let sharedGate {
            let y = shared.apply(x, rows: n, ggml: ggml, activation: activation)
            for row in 0..<n {
                var dot: Float = 0
                for j in 0..<e { dot += sharedGate[j] * x[row * e + j] }
                let scale = 1 / (1 + exp(-dot))
                for j in 0..<e { output[row * e + j] += scale * y[row * e + j] }
            }
        }
        return output
    }
}
