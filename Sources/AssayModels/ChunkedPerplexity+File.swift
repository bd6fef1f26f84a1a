import AssayCheckpoint
import Foundation

extension ChunkedPerplexity {
    /// Chunked perplexity of `text` (as `llama-perplexity -f` reads a file: one trailing newline
    /// dropped) under the GGUF model at `url`, tokenized with the model's own tokenizer (BOS first
    /// when the vocabulary adds it).
    /// - Throws: ``ModelError``, checkpoint and tokenizer errors, and
    ///   ``ModelError/textTooShort(tokens:context:)`` when there are fewer than two chunks.
    public static func run(modelAt url: URL, text: String, context: Int, maxChunks: Int?,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        let model = try LlamaModel(gguf: try GGUFFile(contentsOf: url))
        let tokenizer = try CausalTokenizer(loading: url)
        let tokens = tokenizer.encode(text, parseSpecial: false)
        let bos = tokenizer.addedBOS
        guard tokens.count >= 2 * context else { throw ModelError.textTooShort(tokens: tokens.count, context: context) }
        return try run(model: model, tokens: tokens, context: context, maxChunks: maxChunks, bos: bos, progress: progress)
    }

    /// The signature of a result: `mode:chunked|ctx:…|chunks:…|score:second-half|bos:…|model:<sha prefix>|version:…`.
    public static func signature(_ result: Result, modelHash: String, version: String) -> String {
        "mode:chunked|ctx:\(result.context)|chunks:\(result.chunks)|score:second-half|bos:\(result.bosReplaced ? "yes" : "no")|model:\(modelHash)|version:assay-\(version)"
    }
}
