import Foundation

/// Perplexity from per-token negative log-likelihoods, with llama-perplexity's uncertainty:
/// PPL = exp(mean NLL), ± = sqrt((mean NLL² − mean NLL²)/(N − 1)) · PPL.
public struct PerplexityAccumulator: Sendable, Equatable {
    /// Tokens scored.
    public private(set) var count = 0
    private var sum = 0.0
    private var sumOfSquares = 0.0

    public init() {}

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
