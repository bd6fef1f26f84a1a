import AssayCheckpoint
import AssayTokenizer
import Foundation

/// A model's tokenizer, whichever kind it is.
public enum ModelTokenizer: Sendable {
    case wordPiece(WordPieceTokenizer)
    case bytePairEncoding(BytePairEncoding)
    case sentencePiece(SentencePieceBPE)

    /// Loads the tokenizer of a GGUF file (byte-level BPE, `tokenizer.ggml.model = gpt2`) or of a
    /// model directory / `tokenizer.json` / `vocab.txt` (WordPiece).
    /// - Throws: ``TokenizerError`` or ``CheckpointError`` naming what is missing or unsupported.
    public static func load(_ url: URL) throws -> ModelTokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw TokenizerError.unreadable(path: url.path, reason: "not found")
        }
        if isDirectory.boolValue {
            let json = url.appendingPathComponent("tokenizer.json"), vocab = url.appendingPathComponent("vocab.txt")
            if FileManager.default.fileExists(atPath: json.path) { return try tokenizerJSON(json) }
            if FileManager.default.fileExists(atPath: vocab.path) { return .wordPiece(try WordPieceTokenizer(vocabTXT: vocab)) }
            throw TokenizerError.unreadable(path: url.path, reason: "no tokenizer.json or vocab.txt in the directory")
        }
        switch url.pathExtension {
        case "gguf":
            let file = try GGUFFile(contentsOf: url)
            if file.value("tokenizer.ggml.model")?.string == "llama" { return .sentencePiece(try sentencePiece(file)) }
            return .bytePairEncoding(try gguf(file))
        case "json": return try tokenizerJSON(url)
        case "txt": return .wordPiece(try WordPieceTokenizer(vocabTXT: url))
        default: throw TokenizerError.unsupported(path: url.path, message: "expected a .gguf file, a tokenizer.json, a vocab.txt or a model directory")
        }
    }

    /// A Hugging Face tokenizer.json: WordPiece or byte-level BPE, by its model type.
    static func tokenizerJSON(_ url: URL) throws -> ModelTokenizer {
        let data = try? Data(contentsOf: url)
        let root = data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        if (root?["model"] as? [String: Any])?["type"] as? String == "BPE" { return .bytePairEncoding(try BytePairEncoding(tokenizerJSON: url)) }
        return .wordPiece(try WordPieceTokenizer(tokenizerJSON: url))
    }

    /// The byte-level BPE tokenizer described by a GGUF file's metadata.
    public static func gguf(_ file: GGUFFile) throws -> BytePairEncoding {
        let path = file.url.path
        guard let model = file.value("tokenizer.ggml.model")?.string else {
            throw TokenizerError.malformed(path: path, message: "no tokenizer.ggml.model in the metadata")
        }
        guard model == "gpt2" else {
            throw TokenizerError.unsupported(path: path, message: "tokenizer.ggml.model '\(model)' is not supported yet (gpt2 byte-level BPE and llama SentencePiece are)")
        }
        guard let tokens = file.value("tokenizer.ggml.tokens")?.array?.compactMap(\.string),
              let merges = file.value("tokenizer.ggml.merges")?.array?.compactMap(\.string) else {
            throw TokenizerError.malformed(path: path, message: "tokenizer.ggml.tokens and tokenizer.ggml.merges must be string arrays")
        }
        let types = file.value("tokenizer.ggml.token_type")?.array?.compactMap { $0.integer.map(Int.init) } ?? []
        func flag(_ key: String, _ fallback: Bool) -> Bool { if case let .bool(b)? = file.value(key) { return b } else { return fallback } }
        return try BytePairEncoding(
            tokens: tokens, merges: merges, tokenTypes: types, pre: file.value("tokenizer.ggml.pre")?.string ?? "default",
            bos: file.value("tokenizer.ggml.bos_token_id")?.integer.map(Int.init), eos: file.value("tokenizer.ggml.eos_token_id")?.integer.map(Int.init),
            addBOS: flag("tokenizer.ggml.add_bos_token", true), addEOS: flag("tokenizer.ggml.add_eos_token", false), source: path)
    }

    /// The SentencePiece-style tokenizer of a GGUF file with `tokenizer.ggml.model = llama`.
    public static func sentencePiece(_ file: GGUFFile) throws -> SentencePieceBPE {
        let path = file.url.path
        guard let tokens = file.value("tokenizer.ggml.tokens")?.array?.compactMap(\.string),
              let scores = file.value("tokenizer.ggml.scores")?.array?.compactMap({ $0.number.map(Float.init) }) else {
            throw TokenizerError.malformed(path: path, message: "tokenizer.ggml.tokens (strings) and tokenizer.ggml.scores (numbers) are required")
        }
        let types = file.value("tokenizer.ggml.token_type")?.array?.compactMap { $0.integer.map(Int.init) } ?? []
        func flag(_ key: String, _ fallback: Bool) -> Bool { if case let .bool(b)? = file.value(key) { return b } else { return fallback } }
        return try SentencePieceBPE(
            tokens: tokens, scores: scores, tokenTypes: types,
            bos: file.value("tokenizer.ggml.bos_token_id")?.integer.map(Int.init), eos: file.value("tokenizer.ggml.eos_token_id")?.integer.map(Int.init),
            addBOS: flag("tokenizer.ggml.add_bos_token", true), addEOS: flag("tokenizer.ggml.add_eos_token", false),
            addSpacePrefix: flag("tokenizer.ggml.add_space_prefix", true), source: path)
    }
}
