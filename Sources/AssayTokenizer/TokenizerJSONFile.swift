import Foundation

/// The parts of a Hugging Face `tokenizer.json` with a `BPE` model that both BPE kinds read
/// (byte-level, ``BytePairEncoding``; SentencePiece-style, ``SentencePieceBPE``): the vocabulary
/// with its added tokens, the merges in rank order, and the BOS/EOS the post-processor adds or
/// `tokenizer_config.json` names.
struct TokenizerJSONFile {
    let path: String
    let root: [String: Any]
    let model: [String: Any]
    /// Token text by id; added tokens included.
    let tokens: [String]
    /// 1 for the model's tokens; 4 for added tokens, which are matched verbatim in the text as
    /// Hugging Face extracts them before normalising.
    let types: [Int]
    /// `model.merges` ("a b" strings or ["a", "b"] pairs), in rank order.
    let merges: [(String, String)]
    let bos: Int?
    let eos: Int?
    let addBOS: Bool
    let addEOS: Bool

    init(_ url: URL) throws {
        let path = url.path
        self.path = path
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TokenizerError.unreadable(path: path, reason: error.localizedDescription) }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let model = root["model"] as? [String: Any] else {
            throw TokenizerError.malformed(path: path, message: "not a tokenizer.json (no \"model\" object)")
        }
        guard model["type"] as? String == "BPE", let vocab = model["vocab"] as? [String: Any], let rawMerges = model["merges"] as? [Any] else {
            throw TokenizerError.unsupported(path: path, message: "model type '\(model["type"] as? String ?? "?")' is not BPE with vocab and merges")
        }
        self.root = root
        self.model = model
        var tokens = [String](repeating: "", count: vocab.count)
        for (token, value) in vocab {
            guard let id = (value as? NSNumber)?.intValue, id >= 0, id < tokens.count else {
                throw TokenizerError.malformed(path: path, message: "vocab id of '\(token)' is missing or out of range")
            }
            tokens[id] = token
        }
        let parsed: [(String, String)] = try rawMerges.enumerated().map { index, merge in
            if let pair = merge as? [String], pair.count == 2 { return (pair[0], pair[1]) }
            // "a b": split at the space scalar (a combining mark after it would make " ́" one Character).
            if let text = merge as? String {
                let parts = text.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false)
                if parts.count == 2 { return (String(String.UnicodeScalarView(parts[0])), String(String.UnicodeScalarView(parts[1]))) }
            }
            throw TokenizerError.malformed(path: path, message: "model.merges[\(index)] is neither \"a b\" nor [\"a\", \"b\"]")
        }
        // A pair listed twice takes its last rank, as Hugging Face's merge map does.
        // Keyed by bytes: Swift's String equality would call "é" and "e" + U+0301 one pair.
        func key(_ pair: (String, String)) -> [UInt8] { Array(pair.0.utf8) + [0xFF] + Array(pair.1.utf8) }
        var last: [[UInt8]: Int] = [:]
        for (index, pair) in parsed.enumerated() { last[key(pair)] = index }
        merges = parsed.enumerated().filter { last[key($0.element)] == $0.offset }.map(\.element)
        for (key, value) in [("dropout", model["dropout"]), ("continuing_subword_prefix", model["continuing_subword_prefix"]),
                             ("end_of_word_suffix", model["end_of_word_suffix"])] {
            guard let value, !(value is NSNull) else { continue }
            if let number = value as? NSNumber, number.doubleValue == 0 { continue }
            if let text = value as? String, text.isEmpty { continue }
            throw TokenizerError.unsupported(path: path, message: "model.\(key) \(value) is not supported (null is)")
        }
        var types = [Int](repeating: 1, count: tokens.count)
        let addedTokens = root["added_tokens"] as? [Any] ?? []
        for (index, entry) in addedTokens.enumerated() {
            guard let added = entry as? [String: Any], let id = (added["id"] as? NSNumber)?.intValue, let content = added["content"] as? String else {
                throw TokenizerError.malformed(path: path, message: "added_tokens[\(index)] needs an integer \"id\" and a string \"content\"")
            }
            // Added tokens extend the vocabulary; an id far beyond it is a damaged file, not a token.
            guard id >= 0, id < vocab.count + addedTokens.count else {
                throw TokenizerError.malformed(path: path, message: "added token '\(content)' has id \(id), beyond the vocabulary (\(vocab.count) + \(addedTokens.count) added)")
            }
            if id >= tokens.count {
                tokens += Array(repeating: "", count: id - tokens.count + 1)
                types += Array(repeating: 1, count: id - types.count + 1)
            }
            tokens[id] = content
            types[id] = 4
        }
        var bos: Int?, eos: Int?
        if let post = root["post_processor"] as? [String: Any] {
            // Llama 3's is a Sequence of ByteLevel (offsets only) and TemplateProcessing.
            let steps = post["type"] as? String == "Sequence" ? post["processors"] as? [[String: Any]] ?? [] : [post]
            for step in steps {
                switch step["type"] as? String {
                case "RobertaProcessing", "BertProcessing":
                    bos = ((step["cls"] as? [Any])?.last as? NSNumber)?.intValue
                    eos = ((step["sep"] as? [Any])?.last as? NSNumber)?.intValue
                case "TemplateProcessing":
                    (bos, eos) = try Self.template(step, path: path)
                case "ByteLevel": break
                default:
                    throw TokenizerError.unsupported(path: path, message: "post_processor '\(step["type"] as? String ?? "?")' is not supported (RobertaProcessing, BertProcessing, TemplateProcessing, ByteLevel, or a Sequence of them)")
                }
            }
            // The ids the post-processor adds must be tokens of the vocabulary.
            for (name, id) in [("BOS", bos), ("EOS", eos)] {
                guard let id, !(0..<tokens.count).contains(id) else { continue }
                throw TokenizerError.malformed(path: path, message: "post_processor's \(name) id \(id) is not a token id of the vocabulary (0…\(tokens.count - 1))")
            }
        }
        // tokenizer_config.json beside it names BOS/EOS even when none is added (transformers'
        // `bos_token_id`, which lm-eval uses as the rolling windows' prefix).
        let (configBOS, configEOS) = Self.configSpecialTokens(url.deletingLastPathComponent().appendingPathComponent("tokenizer_config.json"), tokens: tokens)
        self.tokens = tokens
        self.types = types
        self.bos = bos ?? configBOS
        self.eos = eos ?? configEOS
        addBOS = bos != nil
        addEOS = eos != nil
    }

    /// The special tokens a `TemplateProcessing` adds around a single sequence: at most one before
    /// `$A` (BOS) and one after (EOS).
    static func template(_ post: [String: Any], path: String) throws -> (bos: Int?, eos: Int?) {
        guard let single = post["single"] as? [[String: Any]],
              let sequence = single.firstIndex(where: { $0["Sequence"] != nil }) else {
            throw TokenizerError.malformed(path: path, message: "TemplateProcessing without a \"single\" template holding $A")
        }
        let specials = post["special_tokens"] as? [String: Any] ?? [:]
        func id(_ item: [String: Any]) throws -> Int {
            guard let name = (item["SpecialToken"] as? [String: Any])?["id"] as? String,
                  let ids = (specials[name] as? [String: Any])?["ids"] as? [NSNumber], ids.count == 1 else {
                throw TokenizerError.unsupported(path: path, message: "TemplateProcessing items must be single special tokens around $A")
            }
            return ids[0].intValue
        }
        let before = single[..<sequence], after = single[(sequence + 1)...]
        guard before.count <= 1, after.count <= 1 else {
            throw TokenizerError.unsupported(path: path, message: "TemplateProcessing with more than one token before or after $A")
        }
        return (try before.first.map(id), try after.first.map(id))
    }

    /// BOS and EOS ids named by a `tokenizer_config.json` (`"bos_token": "<s>"` or `{"content": "<s>"}`), if present.
    static func configSpecialTokens(_ url: URL, tokens: [String]) -> (bos: Int?, eos: Int?) {
        guard let data = try? Data(contentsOf: url), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return (nil, nil) }
        func id(_ key: String) -> Int? {
            let content = object[key] as? String ?? (object[key] as? [String: Any])?["content"] as? String
            return content.flatMap { c in tokens.firstIndex(of: c) }
        }
        return (id("bos_token"), id("eos_token"))
    }

    /// The steps of a `Sequence` (`normalizers` or `pretokenizers`), or the value itself as one step;
    /// empty for null.
    static func steps(_ value: Any?, key: String) -> [[String: Any]]? {
        guard let object = value as? [String: Any] else { return value == nil || value is NSNull ? [] : nil }
        if object["type"] as? String == "Sequence" { return object[key] as? [[String: Any]] }
        return [object]
    }

    /// Whether the file describes SentencePiece-style BPE — spaces written as `▁` by a `Replace`
    /// normalizer or a `Metaspace` pre-tokenizer (Llama 2, Mistral, Gemma) — rather than byte-level BPE.
    var isSentencePieceStyle: Bool {
        let normalizers = Self.steps(root["normalizer"], key: "normalizers") ?? []
        let preTokenizers = Self.steps(root["pre_tokenizer"], key: "pretokenizers") ?? []
        return normalizers.contains { $0["type"] as? String == "Replace" && $0["content"] as? String == "▁" }
            || preTokenizers.contains { $0["type"] as? String == "Metaspace" }
            || model["byte_fallback"] as? Bool == true
    }
}

/// A `tokenizer.json` with a BPE model, loaded as the kind it describes.
public enum BPETokenizerJSON: Sendable {
    case byteLevel(BytePairEncoding)
    case sentencePiece(SentencePieceBPE)

    /// - Throws: ``TokenizerError`` naming what is missing or unsupported.
    public init(contentsOf url: URL) throws {
        let file = try TokenizerJSONFile(url)
        self = file.isSentencePieceStyle ? .sentencePiece(try SentencePieceBPE(file)) : .byteLevel(try BytePairEncoding(file))
    }
}
