import AssayCore
import Foundation

/// How the next token is chosen from a row of logits.
public struct SamplingParameters: Sendable, Equatable, Codable {
    /// 0 means greedy (the arg-max token); otherwise logits are divided by it before sampling.
    public var temperature: Double
    /// Keep only the `topK` most likely tokens (0: all).
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches `topP` (1: all).
    public var topP: Double
    /// The random stream's seed; the same seed, model and prompt give the same text.
    public var seed: UInt64

    public init(temperature: Double = 0, topK: Int = 0, topP: Double = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }

    /// Greedy decoding (llama.cpp `--temp 0`).
    public static let greedy = SamplingParameters()

    /// `temp:0.8|top_k:40|top_p:0.95|seed:1` (or `greedy`).
    public var signature: String {
        temperature == 0 ? "greedy" : "temp:\(temperature)|top_k:\(topK)|top_p:\(topP)|seed:\(seed)"
    }
}

/// Picks tokens from logits with llama.cpp's order of filters: top-k, then top-p on the
/// probabilities of the raw logits, then temperature, then a draw from the renormalised
/// distribution with Assay's seeded generator (xoshiro256**). Greedy when the temperature is 0.
/// The draws are reproducible for a seed but are not llama.cpp's (its generator is mt19937).
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var generator: SeededGenerator

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        generator = SeededGenerator(seed: parameters.seed)
    }

    /// The arg-max index (the first one on ties).
    public static func argmax(_ row: ArraySlice<Float>) -> Int {
        var best = row.startIndex
        for i in row.indices where row[i] > row[best] { best = i }
        return best - row.startIndex
    }

    /// Candidate token ids with their probabilities after top-k and top-p, most likely first. As in
    /// llama.cpp, top-p sees the softmax of the raw logits (before temperature) over the tokens top-k
    /// kept, and keeps tokens until their cumulative probability reaches `topP` (at least one).
    public static func candidates(_ row: ArraySlice<Float>, topK: Int, topP: Double) -> [(token: Int, probability: Double)] {
        let base = row.startIndex
        var order = Array(0..<row.count)
        order.sort { row[base + $0] > row[base + $1] || (row[base + $0] == row[base + $1] && $0 < $1) }
        if topK > 0 && topK < order.count { order.removeSubrange(topK...) }
        let maximum = Double(row[base + order[0]])
        var total = 0.0
        for token in order { total += exp(Double(row[base + token]) - maximum) }
        var kept: [(token: Int, probability: Double)] = []
        var cumulative = 0.0
        for token in order {
            let p = exp(Double(row[base + token]) - maximum) / total
            kept.append((token, p))
            cumulative += p
            if topP < 1 && cumulative >= topP { break }
        }
        return kept
    }

    /// The next token for a row of logits.
    public mutating func next(_ row: ArraySlice<Float>) -> Int {
        guard parameters.temperature > 0 else { return Self.argmax(row) }
        let kept = Self.candidates(row, topK: parameters.topK, topP: parameters.topP)
        // Temperature on the kept logits: p_i ∝ exp(logit_i / T) = p_i^(1/T) up to a constant.
        let base = row.startIndex
        let top = Double(row[base + kept[0].token])
        let weights = kept.map { exp((Double(row[base + $0.token]) - top) / parameters.temperature) }
        let total = weights.reduce(0, +)
        let u = Double(generator.next() >> 11) * 0x1p-53 * total
        var cumulative = 0.0
        for (i, w) in weights.enumerated() {
            cumulative += w
            if u < cumulative { return kept[i].token }
        }
        return kept[kept.count - 1].token
    }
}
