import Foundation

/// BERT's WordPiece tokenizer, identical to Hugging Face `tokenizers` with a BERT tokenizer.json:
/// special tokens found in the raw text first, ``BertNormalizer``, split on whitespace and
/// punctuation (ASCII punctuation or Unicode P*), greedy longest-match WordPiece with `##`
/// continuations, `[UNK]` for words longer than `maxInputCharactersPerWord` or without a match,
/// and `[CLS] … [SEP]` around the sequence.
public struct WordPieceTokenizer: Sendable {
    /// Token → id.
    public let vocabulary: [String: Int]
    /// id → token.
    public let tokens: [String]
    public let normalizer: BertNormalizer
    public let unknownToken: String
    public let continuationPrefix: String
    public let maxInputCharactersPerWord: Int
    /// Tokens matched verbatim in the raw text before normalisation (`[CLS]`, `[MASK]`, …).
    public let specialTokens: [String]
    public let classifierToken: String
    public let separatorToken: String

    /// Loads a Hugging Face `tokenizer.json` whose model is WordPiece.
    /// - Throws: ``TokenizerError`` naming what is missing or unsupported.
    public init(tokenizerJSON url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TokenizerError.unreadable(path: url.path, reason: error.localizedDescription) }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let model = root["model"] as? [String: Any] else {
            throw TokenizerError.malformed(path: url.path, message: "not a tokenizer.json (no \"model\" object)")
        }
        guard model["type"] as? String == "WordPiece", let vocab = model["vocab"] as? [String: Any] else {
            throw TokenizerError.unsupported(path: url.path, message: "model type '\(model["type"] as? String ?? "?")' is not WordPiece")
        }
        var vocabulary: [String: Int] = [:]
        for (token, id) in vocab {
            // Ids index the token table: one far beyond the vocabulary is a damaged file.
            let added = (root["added_tokens"] as? [Any])?.count ?? 0
            guard let id = (id as? NSNumber)?.intValue, id >= 0, id < vocab.count + added else {
                throw TokenizerError.malformed(path: url.path, message: "vocab id of '\(token)' is not a number from 0 to \(vocab.count + added - 1)")
            }
            vocabulary[token] = id
        }
        var normalizer = BertNormalizer()
        if let n = root["normalizer"] as? [String: Any] {
            guard n["type"] as? String == "BertNormalizer" else {
                throw TokenizerError.unsupported(path: url.path, message: "normalizer '\(n["type"] as? String ?? "?")' is not BertNormalizer")
            }
            normalizer = BertNormalizer(cleanText: n["clean_text"] as? Bool ?? true, handleChineseCharacters: n["handle_chinese_chars"] as? Bool ?? true,
                                        stripAccents: n["strip_accents"] as? Bool, lowercase: n["lowercase"] as? Bool ?? true)
        }
        var special: [String] = []
        for (index, entry) in (root["added_tokens"] as? [Any] ?? []).enumerated() {
            guard let added = entry as? [String: Any], let content = added["content"] as? String, !content.isEmpty else {
                throw TokenizerError.malformed(path: url.path, message: "added_tokens[\(index)] has no \"content\" string")
            }
            if vocabulary[content] == nil {
                // Hugging Face keeps added tokens by their own id: take it when the vocabulary has no other token there.
                guard let id = (added["id"] as? NSNumber)?.intValue, id >= 0, id < vocab.count + 1 + index, !vocabulary.values.contains(id) else {
                    throw TokenizerError.malformed(path: url.path, message: "added token '\(content)' is not in the vocabulary and has no free id")
                }
                vocabulary[content] = id
            }
            special.append(content)
        }
        try self.init(vocabulary: vocabulary, normalizer: normalizer, unknownToken: model["unk_token"] as? String ?? "[UNK]",
                      continuationPrefix: model["continuing_subword_prefix"] as? String ?? "##",
                      maxInputCharactersPerWord: (model["max_input_chars_per_word"] as? NSNumber)?.intValue ?? 100,
                      specialTokens: special, path: url.path)
    }

    /// Loads a BERT `vocab.txt` (one token per line, id = line number − 1).
    public init(vocabTXT url: URL, lowercase: Bool = true) throws {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch { throw TokenizerError.unreadable(path: url.path, reason: error.localizedDescription) }
        var vocabulary: [String: Int] = [:]
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let token = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
            if vocabulary[token] == nil { vocabulary[token] = i }
        }
        try self.init(vocabulary: vocabulary, normalizer: BertNormalizer(lowercase: lowercase), unknownToken: "[UNK]",
                      continuationPrefix: "##", maxInputCharactersPerWord: 100,
                      specialTokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].filter { vocabulary[$0] != nil }, path: url.path)
    }

    init(vocabulary: [String: Int], normalizer: BertNormalizer, unknownToken: String, continuationPrefix: String,
         maxInputCharactersPerWord: Int, specialTokens: [String], path: String) throws {
        for required in [unknownToken, "[CLS]", "[SEP]"] where vocabulary[required] == nil {
            throw TokenizerError.malformed(path: path, message: "the vocabulary has no '\(required)'")
        }
        for token in specialTokens where vocabulary[token] == nil {
            throw TokenizerError.malformed(path: path, message: "special token '\(token)' is not in the vocabulary")
        }
        self.vocabulary = vocabulary
        var tokens = [String](repeating: "", count: (vocabulary.values.max() ?? -1) + 1)
        for (token, id) in vocabulary { tokens[id] = token }
        self.tokens = tokens
        self.normalizer = normalizer
        self.unknownToken = unknownToken
        self.continuationPrefix = continuationPrefix
        self.maxInputCharactersPerWord = maxInputCharactersPerWord
        self.specialTokens = specialTokens.sorted { $0.utf8.count > $1.utf8.count }
        classifierToken = "[CLS]"
        separatorToken = "[SEP]"
    }

    /// Token ids of `text`, with `[CLS]` and `[SEP]` when `addSpecialTokens`.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int] = addSpecialTokens ? [vocabulary[classifierToken]!] : []
        for (piece, isSpecial) in splitOnSpecialTokens(text) {
            if isSpecial { ids.append(vocabulary[piece]!); continue }
            for word in preTokenize(normalizer.normalize(piece)) { ids += wordPiece(word) }
        }
        if addSpecialTokens { ids.append(vocabulary[separatorToken]!) }
        return ids
    }

    /// Text of `ids` as Hugging Face's `WordPiece` decoder gives it (`cleanup=True`): special tokens
    /// skipped, `##` pieces glued to the previous one, other tokens preceded by a space, and each
    /// token cleaned up on its own (" ." → ".", " ," → ",", " n't" → "n't", …).
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        var out = ""
        var first = true
        for id in ids {
            guard id >= 0, id < tokens.count else { continue }
            let token = tokens[id]
            if skipSpecialTokens && specialTokens.contains(token) { continue }
            var piece: String
            // Compare scalars, not Characters: "##" + a combining mark is one grapheme.
            if token.unicodeScalars.starts(with: continuationPrefix.unicodeScalars), !first {
                piece = String(String.UnicodeScalarView(token.unicodeScalars.dropFirst(continuationPrefix.unicodeScalars.count)))
            } else {
                piece = first ? token : " " + token
            }
            for (from, to) in Self.cleanup { piece = ByteStrings.replace(piece, from, to) }
            out += piece
            first = false
        }
        return out
    }

    /// Hugging Face's `cleanup` replacements, in order.
    static let cleanup: [(String, String)] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
        (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ]

    /// The tokens of `ids`.
    public func tokens(of ids: [Int]) -> [String] { ids.map { $0 < tokens.count ? tokens[$0] : unknownToken } }

    /// Raw text split around verbatim occurrences of special tokens (longest first).
    func splitOnSpecialTokens(_ text: String) -> [(String, Bool)] { SpecialTokenSplitter.split(text, specialTokens) }

    /// Split on whitespace (dropped) and punctuation (kept as single-character words).
    func preTokenize(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
        }
        for s in text.unicodeScalars {
            if s.properties.isWhitespace || s == "\t" || s == "\n" || s == "\r" {
                flush()
            } else if Self.isPunctuation(s) {
                flush()
                words.append(String(s))
            } else {
                current.append(s)
            }
        }
        flush()
        return words
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII { return (0x21...0x2F).contains(s.value) || (0x3A...0x40).contains(s.value) || (0x5B...0x60).contains(s.value) || (0x7B...0x7E).contains(s.value) }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation,
             .otherPunctuation: return true
        default: return false
        }
    }

    /// Greedy longest-match-first WordPiece over Unicode scalars.
    func wordPiece(_ word: String) -> [Int] {
        let scalars = Array(word.unicodeScalars)
        guard scalars.count <= maxInputCharactersPerWord else { return [vocabulary[unknownToken]!] }
        var ids: [Int] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: Int?
            while start < end {
                var piece = String.UnicodeScalarView()
                piece.append(contentsOf: scalars[start..<end])
                let candidate = (start > 0 ? continuationPrefix : "") + String(piece)
                if let id = vocabulary[candidate] { found = id; break }
                end -= 1
            }
            guard let id = found else { return [vocabulary[unknownToken]!] }
            ids.append(id)
            start = end
        }
        return ids
    }
}
