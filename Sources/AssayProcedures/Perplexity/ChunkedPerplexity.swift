import AssayMetrics
import AssayModels
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
        /// False when the run was cancelled (Ctrl-C) before the last chunk: the numbers cover the
        /// `chunks` evaluated so far.
        public var complete: Bool
    }

    /// Runs the procedure on `model`; `progress` is called after each chunk with (done, total).
    /// When the task is cancelled it stops after the current chunk and returns the partial result
    /// (`complete == false`).
    /// - Precondition: `context ≥ 4`.
    /// - Throws: what the backend throws while scoring.
    public static func run(model: any LanguageModelBackend, tokens: [Int], context: Int, maxChunks: Int?, bos: Int?,
                           progress: (Int, Int) -> Void = { _, _ in }) async throws -> Result {
        precondition(context >= 4, "context too small")
        var total = tokens.count / context
        if let maxChunks, maxChunks > 0 { total = min(total, maxChunks) }
        var accumulator = PerplexityAccumulator()
        let first = context / 2
        var done = 0
        for c in 0..<total {
            if Task.isCancelled { break }
            var chunk = Array(tokens[(c * context)..<((c + 1) * context)])
            if let bos { chunk[0] = bos }
            // Positions first … context − 2 predict the next token: ln p(chunk[j + 1] | chunk[...j]).
            let scores = try await model.scoreTokens(chunk, from: first, options: ScoreOptions())
            for logProbability in scores.logProbabilities { accumulator.add(-logProbability) }
            done = c + 1
            progress(done, total)
        }
        return Result(accumulator: accumulator, chunks: done, context: context, bosReplaced: bos != nil, complete: done == total)
    }
}
