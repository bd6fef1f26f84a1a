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

    /// A Hugging Face tokenizer.json: WordPiece, byte-level BPE or SentencePiece-style BPE, by its
    /// model type and how it writes spaces.
    static func tokenizerJSON(_ url: URL) throws -> ModelTokenizer {
        let data = try? Data(contentsOf: url)
        let root = data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        if (root?["model"] as? [String: Any])?["type"] as? String == "BPE" {
            switch try BPETokenizerJSON(contentsOf: url) {
            case let .byteLevel(tokenizer): return .bytePairEncoding(tokenizer)
            case let .sentencePiece(tokenizer): return .sentencePiece(tokenizer)
            }
        }
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
        let tokens = try strings(file, "tokenizer.ggml.tokens"), merges = try strings(file, "tokenizer.ggml.merges")
        let types = try tokenTypes(file, count: tokens.count)
        func flag(_ key: String, _ fallback: Bool) -> Bool { if case let .bool(b)? = file.value(key) { return b } else { return fallback } }
        return try BytePairEncoding(
            tokens: tokens, merges: merges, tokenTypes: types, pre: file.value("tokenizer.ggml.pre")?.string ?? "default",
            bos: try tokenID(file, "tokenizer.ggml.bos_token_id", count: tokens.count),
            eos: try tokenID(file, "tokenizer.ggml.eos_token_id", count: tokens.count),
            addBOS: flag("tokenizer.ggml.add_bos_token", true), addEOS: flag("tokenizer.ggml.add_eos_token", false), source: path)
    }

    /// The SentencePiece-style tokenizer of a GGUF file with `tokenizer.ggml.model = llama`.
    public static func sentencePiece(_ file: GGUFFile) throws -> SentencePieceBPE {
        let path = file.url.path
        let tokens = try strings(file, "tokenizer.ggml.tokens")
        guard let scoreValues = file.value("tokenizer.ggml.scores")?.array else {
            throw TokenizerError.malformed(path: path, message: "tokenizer.ggml.scores (numbers, one per token) is required")
        }
        let scores = scoreValues.compactMap { $0.number.map(Float.init) }
        guard scores.count == tokens.count, scores.allSatisfy(\.isFinite) else {
            throw TokenizerError.malformed(path: path, message: "tokenizer.ggml.scores must hold one finite number per token (\(tokens.count))")
        }
        let types = try tokenTypes(file, count: tokens.count)
        func flag(_ key: String, _ fallback: Bool) -> Bool { if case let .bool(b)? = file.value(key) { return b } else { return fallback } }
        return try SentencePieceBPE(
            tokens: tokens, scores: scores, tokenTypes: types,
            bos: try tokenID(file, "tokenizer.ggml.bos_token_id", count: tokens.count),
            eos: try tokenID(file, "tokenizer.ggml.eos_token_id", count: tokens.count),
            unknown: try tokenID(file, "tokenizer.ggml.unknown_token_id", count: tokens.count),
            addBOS: flag("tokenizer.ggml.add_bos_token", true), addEOS: flag("tokenizer.ggml.add_eos_token", false),
            addSpacePrefix: flag("tokenizer.ggml.add_space_prefix", true), source: path)
    }

    /// A metadata array whose every element is a string (a non-string would shift every later id).
    static func strings(_ file: GGUFFile, _ key: String) throws -> [String] {
        guard let values = file.value(key)?.array else {
            throw TokenizerError.malformed(path: file.url.path, message: "\(key) is missing or not an array of strings")
        }
        let strings = values.compactMap(\.string)
        guard strings.count == values.count else {
            let index = values.firstIndex { $0.string == nil } ?? 0
            throw TokenizerError.malformed(path: file.url.path, message: "\(key)[\(index)] is not a string (every entry must be, or later ids shift)")
        }
        return strings
    }

    /// `tokenizer.ggml.token_type`: one integer per token when present.
    static func tokenTypes(_ file: GGUFFile, count: Int) throws -> [Int] {
        guard let values = file.value("tokenizer.ggml.token_type")?.array else { return [] }
        let types = values.compactMap { $0.integer.map(Int.init) }
        guard types.count == values.count, types.count == count else {
            throw TokenizerError.malformed(path: file.url.path, message: "tokenizer.ggml.token_type must hold one integer per token (\(count))")
        }
        return types
    }

    /// A special token's id, which must name a token of the vocabulary.
    static func tokenID(_ file: GGUFFile, _ key: String, count: Int) throws -> Int? {
        guard let value = file.value(key) else { return nil }
        guard let id = value.integer, id >= 0, id < count else {
            throw TokenizerError.malformed(path: file.url.path, message: "\(key) is \(value), not a token id of the vocabulary (0…\(count - 1))")
        }
        return Int(id)
    }
}
