import AssayCheckpoint
import AssayModels
import Foundation

/// Which perplexity to compute.
public enum PerplexityMode: Sendable, Equatable {
    /// llama-perplexity's chunks; `maxChunks` 0 means all.
    case chunked(maxChunks: Int)
    /// lm-eval's `loglikelihood_rolling` per document; `stride` nil means `context` (lm-eval's).
    case rolling(split: DocumentSplit, stride: Int?)
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

    /// Prefill speed: tokens through the model per second of evaluation.
    public var prefillTokensPerSecond: Double? { evalSeconds > 0 ? Double(tokensProcessed) / evalSeconds : nil }

    /// The `--format json` object.
    public var json: [String: Any] {
        var object: [String: Any] = [
            "perplexity": perplexity ?? NSNull(), "stderr": stderr ?? NSNull(), "nll_mean": nllMean ?? NSNull(),
            "tokens_scored": tokensScored, "chunks": chunks, "mode": mode, "context": context, "signature": signature,
            "complete": complete, "eval_seconds": evalSeconds, "tokens_processed": tokensProcessed,
            "prefill_tokens_per_second": prefillTokensPerSecond ?? NSNull(),
        ]
        if mode == "rolling" {
            object["documents"] = documents ?? 0
            object["word_perplexity"] = wordPerplexity ?? NSNull()
            object["byte_perplexity"] = bytePerplexity ?? NSNull()
            object["bits_per_byte"] = bitsPerByte ?? NSNull()
        }
        return object
    }
}

/// Perplexity of a text file under a local GGUF model, in either mode (what `assay perplexity` and
/// the `perplexity` evaluator run).
public enum PerplexityRunner {
    /// Reads `textURL`, loads the model and tokenizer at `modelURL` and runs `mode`.
    /// `progress` gets (tokens done, tokens total). Cancelling the task stops after the current
    /// chunk/window with a partial report (`complete == false`).
    /// - Throws: ``ModelError`` (unsupported model, context beyond the trained length, text shorter
    ///   than two chunks, empty or malformed documents), checkpoint and tokenizer errors, and
    ///   ``ProcedureError/unreadableText(path:reason:)`` for a missing file or one that is not UTF-8,
    ///   ``ProcedureError/invalidStride(stride:context:)``.
    public static func run(modelAt modelURL: URL, textAt textURL: URL, context: Int, mode: PerplexityMode,
                           modelHash: String, version: String, numerics: LlamaModel.Numerics = .exact,
                           progress: @escaping (Int, Int) -> Void = { _, _ in }) throws -> PerplexityReport {
        let text = try readText(textURL)
        var model = try LlamaModel(contentsOf: modelURL)
        model.numerics = numerics
        let numericsTag = numerics == .exact ? "" : "|numerics:\(numerics.rawValue)"
        try model.checkContext(context, path: modelURL.path)
        let tokenizer = try CausalTokenizer(loading: modelURL)
        switch mode {
        case let .chunked(maxChunks):
            let contents = droppingOneNewline(text)
            let tokens = tokenizer.encode(contents, parseSpecial: false)
            guard tokens.count >= 2 * context else { throw ProcedureError.textTooShort(tokens: tokens.count, context: context) }
            let started = Date()
            let result = try ChunkedPerplexity.run(model: model, tokens: tokens, context: context, maxChunks: maxChunks,
                                                   bos: tokenizer.addedBOS) { done, total in progress(done * context, total * context) }
            let a = result.accumulator
            var report = PerplexityReport(
                mode: "chunked", context: context, perplexity: a.perplexity, stderr: a.standardError, nllMean: a.meanNLL,
                tokensScored: a.count, chunks: result.chunks, complete: result.complete,
                signature: "mode:chunked|ctx:\(context)|chunks:\(result.chunks)|score:second-half|bos:\(result.bosReplaced ? "yes" : "no")|tokens:\(a.count)|tokenizer:\(tokenizer.name)|model:\(modelHash)|version:assay-\(version)"
                    + numericsTag + (result.complete ? "" : "|partial"))
            report.evalSeconds = Date().timeIntervalSince(started)
            report.tokensProcessed = result.chunks * context
            return report
        case let .rolling(split, stride):
            let stride = stride ?? context
            guard stride >= 1, stride <= context else {
                throw ProcedureError.invalidStride(stride: stride, context: context)
            }
            guard let prefix = tokenizer.bos ?? tokenizer.eos else {
                throw ModelError.missingMetadata(path: modelURL.path, key: "tokenizer.ggml.bos_token_id (or eos_token_id), the rolling windows' prefix token")
            }
            let documents = try split.documents(of: text, path: textURL.path)
            let started = Date()
            let result = RollingPerplexity.run(model: model, documents: documents, encode: { tokenizer.encode($0, addSpecial: false, parseSpecial: false) },
                                               prefix: prefix, context: context, stride: stride, progress: progress)
            let a = result.accumulator
            var report = PerplexityReport(
                mode: "rolling", context: context, perplexity: a.perplexity, stderr: a.standardError, nllMean: a.meanNLL,
                tokensScored: a.count, chunks: result.windows, documents: result.documents,
                wordPerplexity: result.wordPerplexity, bytePerplexity: result.bytePerplexity, bitsPerByte: result.bitsPerByte,
                complete: result.complete,
                signature: RollingPerplexity.signature(result, split: split.description, tokenizer: tokenizer.name, modelHash: modelHash, version: version)
                    + numericsTag + (result.complete ? "" : "|partial"))
            report.evalSeconds = Date().timeIntervalSince(started)
            report.tokensProcessed = result.tokensProcessed
            return report
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
        guard let text = String(data: data, encoding: .utf8) else {
            throw ProcedureError.unreadableText(path: url.path, reason: "the text is not valid UTF-8")
        }
        return text
    }
}
