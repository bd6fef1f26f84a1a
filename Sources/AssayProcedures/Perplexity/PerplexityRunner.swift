import AssayCore
import AssayMetrics
import AssayModels
import Foundation

/// Which perplexity to compute.
public enum PerplexityMode: Sendable, Equatable {
    /// llama-perplexity's chunks; `maxChunks` 0 means all.
    case chunked(maxChunks: Int)
    /// lm-eval's `loglikelihood_rolling` per document; `stride` nil means `context` (lm-eval's);
    /// `prefix` the token that starts each document's first window (lm-eval's
    /// `custom_prefix_token_id`), nil: the model's BOS, or EOS when it has none.
    case rolling(split: DocumentSplit, stride: Int?, prefix: Int? = nil)
}

/// The outcome of a perplexity run in either mode, with the fields `assay perplexity --format json`
/// prints.
public struct PerplexityReport: Sendable {
    public var mode: String
    public var context: Int
    public var perplexity: Double?
    public var stderr: Double?
    public var nllMean: Double?
    public var tokensScored: Int
    /// Chunks (chunked) or model windows (rolling) evaluated.
    public var chunks: Int
    /// Rolling mode only.
    public var documents: Int?
    public var wordPerplexity: Double?
    public var bytePerplexity: Double?
    public var bitsPerByte: Double?
    /// False when stopped early (Ctrl-C): the numbers cover what was evaluated.
    public var complete: Bool
    public var signature: String
    /// Tokens that went through the model (every position of every chunk or window).
    public var tokensProcessed = 0
    /// Seconds spent in the model and scoring (load and tokenization excluded).
    public var evalSeconds = 0.0
    /// Each evaluated chunk (chunked) or document (rolling), in order: what a merge of shards adds up.
    public var parts: [Part] = []

    /// One chunk's or document's totals.
    public struct Part: Sendable, Equatable {
        /// 0-based index of the chunk or document in the whole text.
        public var index: Int
        public var accumulator: PerplexityAccumulator
        /// Rolling: the document's words (`re.split(r"\s+")`) and UTF-8 bytes.
        public var words: Int?
        public var bytes: Int?
        /// Each scored token's NLL, in order.
        public var nll: [Float] = []
        /// With `tokenTexts`: the text before the scored tokens (a chunk's first half) and each
        /// scored token's text ("" for a token that ends inside a character; the next carries it).
        public var context: String?
        public var tokenTexts: [String]?
    }

    /// Prefill speed: tokens through the model per second of evaluation.
    public var prefillTokensPerSecond: Double? { evalSeconds > 0 ? Double(tokensProcessed) / evalSeconds : nil }
}

extension PerplexityReport: Encodable {
    /// The `--format json` object (rolling mode adds documents and the word/byte figures).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try c.encode(perplexity, "perplexity")
        try c.encode(stderr, "stderr")
        try c.encode(nllMean, "nll_mean")
        try c.encode(tokensScored, "tokens_scored")
        try c.encode(chunks, "chunks")
        try c.encode(mode, "mode")
        try c.encode(context, "context")
        try c.encode(signature, "signature")
        try c.encode(complete, "complete")
        try c.encode(evalSeconds, "eval_seconds")
        try c.encode(tokensProcessed, "tokens_processed")
        try c.encode(prefillTokensPerSecond, "prefill_tokens_per_second")
        if mode == "rolling" {
            try c.encode(documents ?? 0, "documents")
            try c.encode(wordPerplexity, "word_perplexity")
            try c.encode(bytePerplexity, "byte_perplexity")
            try c.encode(bitsPerByte, "bits_per_byte")
        }
        try c.encode(parts.map(PartTotals.init), mode == "rolling" ? "per_document" : "per_chunk")
    }

    /// A part's totals in the JSON (`per_chunk` / `per_document`, the keys of the perplexity
    /// evaluator's item rows): enough to add parts up or to compare them one by one with another
    /// tool's (as llama-perplexity prints a running value after each chunk).
    struct PartTotals: Encodable {
        var part: Part
        init(_ part: Part) { self.part = part }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: JSONKey.self)
            try c.encode(part.index, "index")
            try c.encode(part.accumulator.count, "tokens")
            // A broken model's non-finite values print as null (JSON has no NaN).
            func finite(_ x: Double?) -> Double? { x.flatMap { $0.isFinite ? $0 : nil } }
            try c.encode(finite(part.accumulator.totalNLL), "nll_sum")
            try c.encode(finite(part.accumulator.totalSquaredNLL), "nll_sq_sum")
            try c.encode(finite(part.accumulator.perplexity), "perplexity")
            if let words = part.words { try c.encode(words, "words") }
            if let bytes = part.bytes { try c.encode(bytes, "bytes") }
        }
    }
}

/// Perplexity of a text file under a model, in either mode (what `assay perplexity` and the
/// `perplexity` evaluator run). The model is any ``LanguageModelBackend`` that scores tokens: the
/// in-process engine today, a served model where the server returns prompt log-probabilities.
public enum PerplexityRunner {
    /// Each token's text, decoding as few tokens together as keep UTF-8 whole (a token that ends
    /// inside a character gets "" and the next token the character).
    static func pieces(_ ids: [Int], model: any LanguageModelBackend) async throws -> [String] {
        var pieces: [String] = [], pending: [Int] = []
        pieces.reserveCapacity(ids.count)
        for id in ids {
            pending.append(id)
            let text = try await model.detokenize(pending)
            if text.hasSuffix("\u{FFFD}"), pending.count < 4 {
                pieces.append("")
                continue
            }
            pieces.append(text)
            pending.removeAll(keepingCapacity: true)
        }
        // A character still open at the end shows as far as it goes, on the last token.
        if !pending.isEmpty, !pieces.isEmpty { pieces[pieces.count - 1] = try await model.detokenize(pending) }
        return pieces
    }

    /// Reads `textURL` and runs `mode` on `model`. `modelHash` names the weights in the signature.
    /// `progress` gets (tokens done, tokens total). Cancelling the task stops after the current
    /// chunk/window with a partial report (`complete == false`).
    /// - Throws: ``ProcedureError`` (text shorter than two chunks, empty or malformed documents, a
    ///   missing file or one that is not UTF-8, a stride outside 1…context, no rolling prefix token:
    ///   none given and no BOS or EOS known), ``ModelError`` (context beyond the trained length, a
    ///   backend that cannot score).
    public static func run(model: any LanguageModelBackend, textAt textURL: URL, context: Int, mode: PerplexityMode,
                           modelHash: String, version: String = AssayVersion.current, select: (Int) -> Range<Int> = { 0..<$0 },
                           cache: ScoredPartCache? = nil, tokenTexts: Bool = false,
                           progress: @escaping (Int, Int) -> Void = { _, _ in }) async throws -> PerplexityReport {
        let text = try readText(textURL)
        let facts = try await model.scoringFacts()
        try facts.check(context: context, model: model.name)
        let numericsTag = facts.numericsTag
        switch mode {
        case let .chunked(maxChunks):
            let tokens = try await model.tokenize(droppingOneNewline(text), addSpecial: true, parseSpecial: false)
            guard tokens.count / 2 >= context else { throw ProcedureError.textTooShort(tokens: tokens.count, context: context) }
            let started = Date()
            let result = try await ChunkedPerplexity.run(model: model, tokens: tokens, context: context, maxChunks: maxChunks,
                                                         bos: facts.addedBOS, select: select, cache: cache) { done, total in progress(done * context, total * context) }
            let a = result.accumulator
            // The signature names the whole text's chunks and tokens, which a shard's block merges into.
            let chunks = result.complete ? result.plannedChunks : result.chunks
            let scored = result.complete ? result.plannedChunks * ChunkedPerplexity.Result.scoredPerChunk(context: context) : a.count
            var report = PerplexityReport(
                mode: "chunked", context: context, perplexity: a.perplexity, stderr: a.standardError, nllMean: a.meanNLL,
                tokensScored: a.count, chunks: result.chunks, complete: result.complete,
                signature: "mode:chunked|ctx:\(context)|chunks:\(chunks)|score:second-half|bos:\(result.bosReplaced ? "yes" : "no")|tokens:\(scored)|tokenizer:\(facts.tokenizerName)|model:\(modelHash)|version:assay-\(version)"
                    + numericsTag + (result.complete ? "" : "|partial"))
            try checkFinite(report, model: model.name)
            report.evalSeconds = Date().timeIntervalSince(started)
            report.tokensProcessed = result.chunks * context
            let first = context / 2
            for chunk in result.perChunk {
                var part = PerplexityReport.Part(index: chunk.index, accumulator: chunk.accumulator, nll: chunk.nll)
                if tokenTexts {
                    let ids = tokens[(chunk.index * context)..<((chunk.index + 1) * context)]
                    // The context (after BOS, when the chunk's first token became one); the
                    // scored targets are positions first + 1 … context − 1.
                    part.context = try await model.detokenize(Array(ids.prefix(first + 1).dropFirst(result.bosReplaced ? 1 : 0)))
                    part.tokenTexts = try await pieces(Array(ids.suffix(context - first - 1)), model: model)
                }
                report.parts.append(part)
            }
            return report
        case let .rolling(split, stride, chosenPrefix):
            let stride = stride ?? context
            guard stride >= 1, stride <= context else {
                throw ProcedureError.invalidStride(stride: stride, context: context)
            }
            let prefix = try rollingPrefix(chosenPrefix, facts: facts, model: model.name)
            let documents = try split.documents(of: text, path: textURL.path)
            var encoded: [[Int]] = []
            for document in documents { encoded.append(try await model.tokenize(document, addSpecial: false, parseSpecial: false)) }
            let started = Date()
            let result = try await RollingPerplexity.run(model: model, documents: documents, encoded: encoded, prefix: prefix,
                                                         context: context, stride: stride, select: select, cache: cache, progress: progress)
            let a = result.accumulator
            // The signature names the whole file's documents and tokens, which a shard's block merges into.
            let (documentCount, tokenCount) = result.complete ? (documents.count, encoded.reduce(0) { $0 + $1.count }) : (result.documents, a.count)
            var report = PerplexityReport(
                mode: "rolling", context: context, perplexity: a.perplexity, stderr: a.standardError, nllMean: a.meanNLL,
                tokensScored: a.count, chunks: result.windows, documents: result.documents,
                wordPerplexity: result.wordPerplexity, bytePerplexity: result.bytePerplexity, bitsPerByte: result.bitsPerByte,
                complete: result.complete,
                signature: RollingPerplexity.signature(result, documents: documentCount, tokens: tokenCount, split: split.description, tokenizer: facts.tokenizerName, modelHash: modelHash, version: version)
                    + numericsTag + (result.complete ? "" : "|partial"))
            try checkFinite(report, model: model.name)
            report.evalSeconds = Date().timeIntervalSince(started)
            report.tokensProcessed = result.tokensProcessed
            for document in result.perDocument {
                var part = PerplexityReport.Part(index: document.index, accumulator: document.accumulator, words: document.words,
                                                 bytes: document.bytes, nll: document.nll)
                if tokenTexts { part.tokenTexts = try await pieces(encoded[document.index], model: model) }
                report.parts.append(part)
            }
            return report
        }
    }

    /// The token each document's first window starts from: the one asked for, else the model's BOS,
    /// else its EOS (lm-eval's `prefix_token_id`). A served model's tokenizer tells neither unless
    /// it adds BOS to every text, so there it must be given.
    static func rollingPrefix(_ chosen: Int?, facts: ScoringFacts, model: String) throws -> Int {
        if let chosen {
            guard chosen >= 0, facts.vocabulary <= 0 || chosen < facts.vocabulary else {
                throw ProcedureError.missingCapability(model: model, what: "prefix token \(chosen) is not in the vocabulary (\(facts.vocabulary) tokens)",
                                                       hint: "give the id of the tokenizer's BOS (or EOS when it has none), below \(facts.vocabulary)")
            }
            return chosen
        }
        if let known = facts.bos ?? facts.eos { return known }
        let option = "--prefix-token ID (suite option prefix_token; lm-eval's custom_prefix_token_id)"
        if facts.numerics == nil {
            throw ProcedureError.missingCapability(
                model: model, what: "rolling perplexity needs the token each document's first window starts from, and the server's tokenizer adds no BOS (its BOS and EOS ids are not served)",
                hint: "give it with \(option): the tokenizer's bos_token_id, or eos_token_id when it has none (tokenizer_config.json of the served model); or use --mode chunked")
        }
        throw ProcedureError.missingCapability(
            model: model, what: "rolling perplexity needs the token each document's first window starts from, and the tokenizer names no BOS or EOS",
            hint: "give it with \(option), or convert the checkpoint again with its tokenizer's special tokens")
    }

    /// Refuses a report whose token perplexity overflows a double: every log-probability is
    /// finite, but a served model's may be absurd (−1e308 passes as a log-probability and made PPL
    /// infinite). Only the token perplexity: a word perplexity may overflow on real text (a
    /// paragraph of Chinese is one "word" of hundreds of nats). A NaN is a broken model: refused
    /// here too, so that `assay perplexity` does not print `PPL = nan` with exit 0.
    static func checkFinite(_ report: PerplexityReport, model: String) throws {
        if let mean = report.nllMean, mean.isNaN { throw ProcedureError.nonFiniteScores(model: model) }
        if let value = report.perplexity, value == .infinity, let mean = report.nllMean {
            throw ProcedureError.perplexityOverflow(model: model, meanNLL: mean)
        }
    }

    /// `text` without one trailing U+000A (as llama-perplexity reads a file; a "\r" before it stays).
    public static func droppingOneNewline(_ text: String) -> String {
        guard text.utf8.last == 0x0A else { return text }
        return String(decoding: text.utf8.dropLast(), as: UTF8.self)
    }

    /// The file's text; it must be UTF-8.
    static func readText(_ url: URL) throws -> String {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ProcedureError.unreadableText(path: url.path, reason: "cannot read the file: \(error.localizedDescription)")
        }
        switch UTF8Text.decode(data) {
        case let .success(text): return text
        case let .failure(invalid): throw ProcedureError.unreadableText(path: url.path, reason: "the text is \(invalid)")
        }
    }
}
