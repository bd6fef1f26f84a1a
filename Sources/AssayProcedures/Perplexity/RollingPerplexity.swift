import AssayMetrics
import AssayModels
import Foundation

/// Perplexity in `mode: rolling`: lm-evaluation-harness's `loglikelihood_rolling`, document by
/// document, as its `wikitext` task reports it.
///
/// A document's tokens (no BOS added) are cut into windows by lm-eval's `get_rolling_token_windows`
/// and made disjoint by `make_disjoint_window`: the first window feeds `[prefix] + tokens[0 ..< L−1]`
/// and predicts `tokens[0 ..< L]` (L = min(context, tokens)); every later window predicts the next
/// `min(stride, remaining)` tokens from the `context` tokens before each of them, so the last window
/// overlaps earlier ones as context. lm-eval uses `stride = context` (`context_len = 1`). The
/// document's log-likelihood is the sum over its predicted tokens; across documents
/// word perplexity = exp(−Σ ll / Σ words), byte perplexity = exp(−Σ ll / Σ bytes) and
/// bits per byte = −Σ ll / Σ bytes / ln 2, with words = `re.split(r"\s+", document)`.
public enum RollingPerplexity {
    /// One model call: logits of `input` at its last `targets.count` positions predict `targets`.
    public struct Window: Sendable, Equatable {
        public var input: [Int]
        public var targets: [Int]

        public init(input: [Int], targets: [Int]) {
            self.input = input
            self.targets = targets
        }
    }

    /// lm-eval's disjoint rolling windows over `tokens`.
    /// - Precondition: `1 ≤ stride ≤ context`.
    public static func windows(tokens: [Int], prefix: Int, context: Int, stride: Int) -> [Window] {
        precondition(stride >= 1 && stride <= context, "stride must be in 1…context")
        guard !tokens.isEmpty else { return [] }
        let first = min(context, tokens.count)
        var windows = [Window(input: [prefix] + tokens[0..<(first - 1)], targets: Array(tokens[0..<first]))]
        var predicted = first
        while predicted < tokens.count {
            let count = min(tokens.count - predicted, stride)
            let end = predicted + count
            windows.append(Window(input: Array(tokens[(end - context - 1)..<(end - 1)]), targets: Array(tokens[(end - count)..<end])))
            predicted = end
        }
        return windows
    }

    /// Totals over the documents evaluated.
    public struct Result: Sendable, Equatable {
        /// Per-token NLLs (token perplexity and its ±).
        public var accumulator = PerplexityAccumulator()
        public var documents = 0
        public var windows = 0
        /// Tokens fed to the model (all window inputs).
        public var tokensProcessed = 0
        public var words = 0
        public var bytes = 0
        public var context: Int
        public var stride: Int
        public var prefix: Int
        /// False when cancelled (Ctrl-C) before the last document.
        public var complete = false
        /// Each evaluated document, in order.
        public var perDocument: [Document] = []

        /// Adds a document's totals (documents are summed one by one, in order, so shards merge
        /// to the same numbers).
        public mutating func add(_ document: Document) {
            accumulator.add(document.accumulator)
            documents += 1
            windows += document.windows
            words += document.words
            bytes += document.bytes
            perDocument.append(document)
        }

        /// Σ log-likelihood (nats, ≤ 0).
        public var logLikelihood: Double { -accumulator.totalNLL }
        /// exp(−Σ ll / Σ words), lm-eval's `word_perplexity`.
        public var wordPerplexity: Double? { words > 0 ? exp(-logLikelihood / Double(words)) : nil }
        /// exp(−Σ ll / Σ bytes), lm-eval's `byte_perplexity`.
        public var bytePerplexity: Double? { bytes > 0 ? exp(-logLikelihood / Double(bytes)) : nil }
        /// −Σ ll / Σ bytes / ln 2, lm-eval's `bits_per_byte`.
        public var bitsPerByte: Double? { bytes > 0 ? -logLikelihood / Double(bytes) / M_LN2 : nil }
    }

    /// One evaluated document: its index (0-based), its tokens' NLLs, words and UTF-8 bytes.
    public struct Document: Sendable, Equatable {
        public var index: Int
        public var accumulator = PerplexityAccumulator()
        /// Each token's NLL, in order (every token of a document is predicted).
        public var nll: [Float] = []
        public var words = 0
        public var bytes = 0
        public var windows = 0
    }

    /// Runs every document through `model` in windows (``windows(tokens:prefix:context:stride:)``)
    /// and accumulates the targets' NLL; `encoded` holds each document's token ids (no special
    /// tokens). `select` picks the documents from their count (a shard's block; all by default).
    /// `progress` gets (targets done, targets total). Cancelling stops after the current
    /// window with `complete == false`.
    /// - Throws: what the backend throws while scoring; ``ProcedureError/nonFiniteScores(model:at:)``
    ///   at the first document with a NaN log-probability.
    public static func run(model: any LanguageModelBackend, documents: [String], encoded: [[Int]], prefix: Int,
                           context: Int, stride: Int, select: (Int) -> Range<Int> = { 0..<$0 }, cache: ScoredPartCache? = nil,
                           progress: (Int, Int) -> Void = { _, _ in }) async throws -> Result {
        let range = select(min(documents.count, encoded.count))
        let total = encoded[range].reduce(0) { $0 + $1.count }
        var result = Result(context: context, stride: stride, prefix: prefix)
        var done = 0
        for d in range {
            let (document, tokens) = (documents[d], encoded[d])
            var scored = Document(index: d)
            let windows = windows(tokens: tokens, prefix: prefix, context: context, stride: stride)
            if Task.isCancelled { return result }
            if let kept = cache?.lookup([prefix] + tokens) {
                (scored.accumulator, scored.nll) = (kept.accumulator, kept.nll)
                scored.windows = windows.count
                result.tokensProcessed += windows.reduce(0) { $0 + $1.input.count + 1 }
                done += tokens.count
                progress(done, total)
            } else {
                var part = ScoredPart()
                for window in windows {
                    if Task.isCancelled { return result }
                    // Input position offset + j predicts targets[j]; the last target follows the input, so
                    // the scored sequence is the input plus that token, from `offset` on.
                    let offset = window.input.count - window.targets.count
                    guard let scores = try await unlessCancelled({
                        try await model.scoreTokens(window.input + [window.targets[window.targets.count - 1]], from: offset, options: ScoreOptions())
                    }) else { return result }
                    try ScoredPart.checkNumbers(scores.logProbabilities, model: model.name, at: "document \(d + 1) of \(documents.count)")
                    for logProbability in scores.logProbabilities { part.add(logProbability) }
                    scored.windows += 1
                    result.tokensProcessed += window.input.count + 1
                    done += window.targets.count
                    progress(done, total)
                }
                (scored.accumulator, scored.nll) = (part.accumulator, part.nll)
                cache?.record([prefix] + tokens, part)
            }
            scored.words = PythonText.whitespaceSplitCount(document)
            scored.bytes = document.utf8.count
            result.add(scored)
        }
        result.complete = true
        return result
    }

    /// The signature: `mode:rolling|ctx:…|stride:…|prefix:…|docs:…|tokens:…|split:…|tokenizer:…|model:…|version:…`.
    /// `documents` and `tokens` name what the numbers cover: the whole file's, for a complete run
    /// (of which a shard's block is a part), or what was evaluated before an interruption.
    public static func signature(_ result: Result, documents: Int, tokens: Int, split: String, tokenizer: String, modelHash: String,
                                 version: String) -> String {
        "mode:rolling|ctx:\(result.context)|stride:\(result.stride)|prefix:\(result.prefix)|docs:\(documents)|tokens:\(tokens)|split:\(split)|tokenizer:\(tokenizer)|model:\(modelHash)|version:assay-\(version)"
    }
}
