import Foundation

/// Perplexity from per-token negative log-likelihoods, with llama-perplexity's uncertainty:
/// PPL = exp(mean NLL), ± = sqrt((mean NLL² − mean NLL²)/(N − 1)) · PPL.
public struct PerplexityAccumulator: Sendable, Equatable {
    /// Tokens scored.
    public private(set) var count = 0
    private var sum = 0.0
    private var sumOfSquares = 0.0

    public init() {}

    /// An accumulator holding these totals (one read back from a chunk's row).
    /// - Precondition: `count ≥ 0`.
    public init(count: Int, sum: Double, sumOfSquares: Double) {
        precondition(count >= 0, "negative token count")
        self.count = count
        self.sum = sum
        self.sumOfSquares = sumOfSquares
    }

    /// Adds another accumulator's tokens (a chunk's, or a document's): runs sum per chunk and
    /// then chunk by chunk, so a run split into shards sums in the same order.
    public mutating func add(_ other: PerplexityAccumulator) {
        count += other.count
        sum += other.sum
        sumOfSquares += other.sumOfSquares
    }

    /// Σ NLL² (nats²).
    public var totalSquaredNLL: Double { sumOfSquares }

    /// Adds one token's negative log-likelihood (natural log).
    public mutating func add(_ nll: Double) {
        count += 1
        sum += nll
        sumOfSquares += nll * nll
    }

    /// Σ NLL (nats).
    public var totalNLL: Double { sum }

    /// Mean NLL, or nil before any token.
    public var meanNLL: Double? { count > 0 ? sum / Double(count) : nil }

    /// exp(mean NLL), or nil before any token.
    public var perplexity: Double? { meanNLL.map(exp) }

    /// llama-perplexity's ±, or nil with fewer than two tokens.
    public var standardError: Double? {
        guard count > 1, let mean = meanNLL, let ppl = perplexity else { return nil }
        let variance = sumOfSquares / Double(count) - mean * mean
        return (max(0, variance) / Double(count - 1)).squareRoot() * ppl
    }
}
