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
        /// All scored tokens: the chunks' accumulators added in chunk order.
        public var accumulator: PerplexityAccumulator
        /// Chunks evaluated.
        public var chunks: Int
        /// Each evaluated chunk, in order.
        public var perChunk: [Chunk] = []
        /// Chunks in the whole text (what an unsharded run evaluates).
        public var plannedChunks = 0
        public var context: Int
        public var bosReplaced: Bool
        /// False when the run was cancelled (Ctrl-C) before the last chunk: the numbers cover the
        /// `chunks` evaluated so far.
        public var complete: Bool

        /// Tokens each chunk scores: positions `context/2 … context−2` predict.
        public static func scoredPerChunk(context: Int) -> Int { context - context / 2 - 1 }
    }

    /// One evaluated chunk: its index in the whole text (0-based), its tokens' NLL totals and
    /// each scored token's NLL (positions `context/2 + 1 …` of the chunk, for the report's shading).
    public struct Chunk: Sendable, Equatable {
        public var index: Int
        public var accumulator: PerplexityAccumulator
        public var nll: [Float]
    }

    /// Runs the procedure on `model`; `progress` is called after each chunk with (done, total).
    /// `select` picks the chunks to evaluate from the count in the whole text (a shard's block;
    /// all by default). When the task is cancelled it stops after the current chunk and returns the
    /// partial result (`complete == false`).
    /// - Precondition: `context ≥ 4`.
    /// - Throws: what the backend throws while scoring; ``ProcedureError/nonFiniteScores(model:at:)``
    ///   at the first chunk with a NaN log-probability.
    public static func run(model: any LanguageModelBackend, tokens: [Int], context: Int, maxChunks: Int?, bos: Int?,
                           select: (Int) -> Range<Int> = { 0..<$0 }, cache: ScoredPartCache? = nil,
                           progress: (Int, Int) -> Void = { _, _ in }) async throws -> Result {
        precondition(context >= 4, "context too small")
        var planned = tokens.count / context
        if let maxChunks, maxChunks > 0 { planned = min(planned, maxChunks) }
        let range = select(planned)
        var result = Result(accumulator: PerplexityAccumulator(), chunks: 0, plannedChunks: planned, context: context,
                            bosReplaced: bos != nil, complete: false)
        let first = context / 2
        for c in range {
            if Task.isCancelled { break }
            var chunk = Array(tokens[(c * context)..<((c + 1) * context)])
            if let bos { chunk[0] = bos }
            var part = ScoredPart()
            if let kept = cache?.lookup(chunk) {
                part = kept
            } else {
                // Positions first … context − 2 predict the next token: ln p(chunk[j + 1] | chunk[...j]).
                guard let scores = try await unlessCancelled({ try await model.scoreTokens(chunk, from: first, options: ScoreOptions()) }) else { break }
                part = ScoredPart(logProbabilities: scores.logProbabilities)
                try ScoredPart.checkNumbers(scores.logProbabilities, model: model.name,
                                            at: "chunk \(c + 1) of \(planned) (tokens \(c * context)–\((c + 1) * context - 1))")
                cache?.record(chunk, part)
            }
            let accumulator = part.accumulator
            result.perChunk.append(Chunk(index: c, accumulator: accumulator, nll: part.nll))
            result.accumulator.add(accumulator)
            result.chunks += 1
            progress(result.chunks, range.count)
        }
        result.complete = result.chunks == range.count
        return result
    }
}

/// A scored chunk or rolling document: its NLL totals (summed in position order) and each
/// scored token's NLL as a `Float` (for the report's shading; the totals are exact doubles).
public struct ScoredPart: Sendable, Equatable {
    public var accumulator = PerplexityAccumulator()
    public var nll: [Float] = []

    public init() {}

    /// The part of these log-probabilities, in position order.
    public init(logProbabilities: [Double]) {
        for logProbability in logProbabilities { add(logProbability) }
    }

    /// Both totals and per-token values, as kept (`nll.count == accumulator.count`).
    public init(accumulator: PerplexityAccumulator, nll: [Float]) {
        self.accumulator = accumulator
        self.nll = nll
    }

    /// Refuses NaN log-probabilities (``ProcedureError/nonFiniteScores(model:at:)``): a broken
    /// model, stopped at the first chunk or document that has one — not after the whole text — and
    /// before that part is kept for `--resume`.
    static func checkNumbers(_ logProbabilities: [Double], model: String, at place: @autoclosure () -> String) throws {
        if logProbabilities.contains(where: \.isNaN) { throw ProcedureError.nonFiniteScores(model: model, at: place()) }
    }

    /// Adds the next scored position.
    public mutating func add(_ logProbability: Double) {
        accumulator.add(-logProbability)
        nll.append(Float(-logProbability))
    }
}

/// Where parts already evaluated are kept, by their tokens: a run resumed after a kill takes them
/// instead of evaluating them again (`assay run --resume`). Perplexity keeps scored chunks (or
/// rolling documents, after their prefix token) as ``ScoredPart``s, drift each chunk's
/// `DriftAccumulator`.
public struct PartCache<Part: Sendable>: Sendable {
    /// The part kept for these tokens.
    public var lookup: @Sendable ([Int]) -> Part?
    /// Keeps a part once evaluated.
    public var record: @Sendable ([Int], Part) -> Void

    public init(lookup: @escaping @Sendable ([Int]) -> Part?, record: @escaping @Sendable ([Int], Part) -> Void) {
        self.lookup = lookup
        self.record = record
    }
}

/// Scored chunks (or rolling documents) of a perplexity run.
public typealias ScoredPartCache = PartCache<ScoredPart>
