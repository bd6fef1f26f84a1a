import AssayMetrics
import Foundation

/// Perplexity in `mode: chunked`, exactly llama.cpp `llama-perplexity`'s procedure: the token
/// stream is cut into chunks of `context` tokens (`tokens / context` of them, or `chunks` at most);
/// in each chunk the first token becomes BOS when the vocabulary adds BOS; every chunk is evaluated
/// from an empty cache; only positions `context/2 … context−2` predict, so each chunk scores
/// `context − context/2 − 1` tokens.
public enum ChunkedPerplexity {
    /// The result and the settings that produced it.
    public struct Result: Sendable, Equatable {
        public var accumulator: PerplexityAccumulator
        public var chunks: Int
        public var context: Int
        public var bosReplaced: Bool
    }

    /// Runs the procedure; `progress` is called after each chunk with (done, total).
    /// - Precondition: `context ≥ 4`.
    public static func run(model: LlamaModel, tokens: [Int], context: Int, maxChunks: Int?, bos: Int?,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        precondition(context >= 4, "context too small")
        var total = tokens.count / context
        if let maxChunks, maxChunks > 0 { total = min(total, maxChunks) }
        var accumulator = PerplexityAccumulator()
        let first = context / 2
        let vocabulary = model.configuration.vocabulary
        for c in 0..<total {
            try Task.checkCancellation()
            var chunk = Array(tokens[(c * context)..<((c + 1) * context)])
            if let bos { chunk[0] = bos }
            let logits = model.logits(chunk)
            for j in first..<(context - 1) {
                let row = logits[(j * vocabulary)..<((j + 1) * vocabulary)]
                let maximum = Double(row.max() ?? 0)
                var sum = 0.0
                for value in row { sum += exp(Double(value) - maximum) }
                let logProbability = Double(row[row.startIndex + chunk[j + 1]]) - maximum - log(sum)
                accumulator.add(-logProbability)
            }
            progress(c + 1, total)
        }
        return Result(accumulator: accumulator, chunks: total, context: context, bosReplaced: bos != nil)
    }
}
