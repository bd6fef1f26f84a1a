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

/// A mixture-of-experts feed-forward (Mixtral, Qwen2-MoE, Qwen3-MoE, DeepSeek-V2/V3, as
/// llama.cpp's `build_moe_ffn`): the router's logits go through a softmax, the `used`
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
    /// Qwen2-MoE: the shared expert's output is scaled by sigmoid(sharedGate · x).
    var sharedGate: [Float]? = nil
    /// DeepSeek (`Gate` in DeepSeek-V3's inference/model.py): sigmoid scores; a bias added to
    /// the scores to choose experts (not to weigh them); groups of experts of which the best
    /// `groupsUsed` are eligible; the weights scaled by `scale`.
    var gating: LlamaModel.ExpertGating = .softmax
    var selectionBias: [Float]? = nil
    var groups = 1, groupsUsed = 1
    var scale: Float = 1

    /// For each of the `n` rows of `x` (`embedding` wide), the chosen experts and their weights.
    func routes(_ x: [Float], rows n: Int, ggml: Bool) -> [[(expert: Int, weight: Float)]] {
        let count = experts.count
        let logits = router.linear(x, rows: n, ggml: ggml)
        return (0..<n).map { r in
            var scores = Array(logits[(r * count)..<((r + 1) * count)])
            switch gating {
            case .softmax: Kernels.softmax(&scores, 0..<count)
            case .sigmoid: scores = scores.map { 1 / (1 + exp(-$0)) }
            }
            var choice = selectionBias.map { bias in zip(scores, bias).map { $0 + $1 } } ?? scores
            if groups > 1 {
                // A group scores its best expert, or with a bias its best two; the rest are out.
                let size = count / groups
                let groupScores = (0..<groups).map { g -> Float in
                    let members = choice[(g * size)..<((g + 1) * size)].sorted(by: >)
                    return selectionBias == nil ? members[0] : members.prefix(2).reduce(0, +)
                }
                let kept = Set(groupScores.indices.sorted { groupScores[$0] > groupScores[$1] || (groupScores[$0] == groupScores[$1] && $0 < $1) }
                    .prefix(groupsUsed))
                for g in 0..<groups where !kept.contains(g) {
                    for j in (g * size)..<((g + 1) * size) { choice[j] = -.infinity }
                }
            }
            // The best first; on a tie the lower index, as a stable sort gives it.
            let chosen = choice.indices.sorted { choice[$0] > choice[$1] || (choice[$0] == choice[$1] && $0 < $1) }.prefix(used)
            var weights = chosen.map { scores[$0] }
            if normalize || gating == .sigmoid {
                // llama.cpp keeps the sum from 0 (sigmoid scores can all underflow).
                let sum = max(weights.reduce(0, +), 6.103515625e-5)
                weights = weights.map { $0 / sum }
            }
            return Array(zip(chosen, weights)).map { (expert: $0.0, weight: $0.1 * scale) }
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
        if let shared {
            let y = shared.apply(x, rows: n, ggml: ggml, activation: activation)
            for row in 0..<n {
                var scale: Float = 1
                if let sharedGate {
                    var dot: Float = 0
                    for j in 0..<e { dot += sharedGate[j] * x[row * e + j] }
                    scale = 1 / (1 + exp(-dot))
                }
                for j in 0..<e { output[row * e + j] += scale * y[row * e + j] }
            }
        }
        return output
    }
}
