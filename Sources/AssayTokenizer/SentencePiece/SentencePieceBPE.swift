/// SentencePiece-style BPE as llama.cpp runs GGUF vocabularies of type `llama`: spaces become
/// `▁` (with one prepended at the start and after each special token when `add_space_prefix`),
/// the text is split into UTF-8 characters, adjacent pairs whose concatenation is a token merge
/// highest score first (ties → leftmost), and pieces that are not tokens fall back to their bytes
/// (`<0xNN>`). Loaded from a tokenizer.json (Llama 2, Mistral, Gemma), it runs Hugging Face's
/// rules instead: only the listed merges, lowest rank first, and the file's prefix rule.
public struct SentencePieceBPE: Sendable {
    /// Where a `▁` is put in front of a piece of text (the text between special tokens).
    public enum SpacePrefix: Sendable, Equatable {
        /// Never (Gemma).
        case none
        /// Before every piece (llama.cpp's `add_space_prefix`; tokenizer.json's `Prepend("▁")`).
        case always
        /// Before a piece that does not start with a space already: every piece, or only a piece at
        /// the start of the text (tokenizer.json's `Metaspace`, `prepend_scheme` "always" / "first").
        case unlessSpace(firstOnly: Bool)
    }

    public let tokens: [String]
    /// Token bytes → id. Keys are UTF-8 bytes, not `String`s: Swift compares strings by canonical
    /// equivalence ("e\u{301}" == "é"), llama.cpp by bytes.
    let ids: [[UInt8]: Int]
    public let scores: [Float]
    /// Tokens recognised in the text when parsing special tokens (control and user-defined), longest first.
    public let specialTokens: [String]
    public let bos: Int?
    public let eos: Int?
    public let addBOS: Bool
    public let addEOS: Bool
    public let spacePrefix: SpacePrefix
    public var addSpacePrefix: Bool { spacePrefix != .none }
    /// Hugging Face's merges (tokenizer.json), keyed by the left piece's bytes, 0xFF (never in
    /// UTF-8), the right piece's bytes; the value is the rank. Nil: llama.cpp's rule, any pair whose
    /// concatenation is a token, by score.
    let mergeRanks: [[UInt8]: Int]?
    /// The token for a piece that is neither a token nor spelled by byte tokens (`<unk>`).
    let unknown: Int?
    /// A run of unknown pieces becomes one `<unk>` (Hugging Face's `fuse_unk`).
    let fuseUnknown: Bool
    let byteTokens: [Int?]
    /// Whether no merge can take a newline (no multi-byte token, or no listed merge, holds one):
    /// then ``tokenize(_:)`` runs line by line — the same tokens, since no pair across a newline
    /// ever merges — holding one line's symbols and candidate pairs instead of the whole text's
    /// (tens of bytes a character: ~100 MB for WikiText-2's test file in one piece).
    let newlineStandsAlone: Bool

    /// Creates the tokenizer from GGUF metadata values; `unknown` stands for a piece its byte tokens
    /// cannot spell.
    /// - Throws: ``TokenizerError/malformed(path:message:)`` when scores do not match the tokens, or
    ///   when a byte that UTF-8 text holds has no token and there is no unknown token: such text
    ///   would lose characters silently (llama.cpp stops with an exception there).
    public init(tokens: [String], scores: [Float], tokenTypes: [Int], bos: Int?, eos: Int?, unknown: Int? = nil, addBOS: Bool, addEOS: Bool,
                addSpacePrefix: Bool, source: String) throws {
        guard scores.count == tokens.count else {
            throw TokenizerError.malformed(path: source, message: "tokenizer.ggml.scores has \(scores.count) entries for \(tokens.count) tokens")
        }
        self.init(tokens: tokens, scores: scores, tokenTypes: tokenTypes, bos: bos, eos: eos, addBOS: addBOS, addEOS: addEOS,
                  spacePrefix: addSpacePrefix ? .always : .none, mergeRanks: nil, unknown: unknown, byteFallback: true, fuseUnknown: false)
        // The bytes of valid UTF-8: 0x00–0xBF and the lead bytes 0xC2–0xF4.
        if unknown == nil, let byte = (0..<256).first(where: { ($0 < 0xC0 || (0xC2...0xF4).contains($0)) && byteTokens[$0] == nil }) {
            throw TokenizerError.malformed(path: source, message: String(format: "the vocabulary has no token for the byte 0x%02X (<0x%02X>) and no tokenizer.ggml.unknown_token_id: text holding it would lose characters", byte, byte))
        }
    }

    init(tokens: [String], scores: [Float], tokenTypes: [Int], bos: Int?, eos: Int?, addBOS: Bool, addEOS: Bool,
         spacePrefix: SpacePrefix, mergeRanks: [[UInt8]: Int]?, unknown: Int?, byteFallback: Bool, fuseUnknown: Bool) {
        self.tokens = tokens
        var ids: [[UInt8]: Int] = [:]
        for (i, t) in tokens.enumerated() where ids[Array(t.utf8)] == nil { ids[Array(t.utf8)] = i }
        self.ids = ids
        self.scores = scores
        specialTokens = SpecialTokenSplitter.specialTokens(tokens, types: tokenTypes)
        self.bos = bos
        self.eos = eos
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.spacePrefix = spacePrefix
        self.mergeRanks = mergeRanks
        self.unknown = unknown
        self.fuseUnknown = fuseUnknown
        newlineStandsAlone = mergeRanks.map { ranks in !ranks.keys.contains { $0.contains(0x0A) } }
            ?? !ids.keys.contains { $0.count > 1 && $0.contains(0x0A) }
        byteTokens = (0..<256).map { b in
            guard byteFallback else { return nil }
            return ids[Array((String(format: "<0x%02X", b) + ">").utf8)] ?? (b < 0x80 && mergeRanks == nil ? ids[[UInt8(b)]] : nil)
        }
    }

    /// Token ids of `text`.
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = false) -> [Int] {
        var output: [Int] = []
        if addSpecial, addBOS, let bos { output.append(bos) }
        var atStart = true
        for (piece, special) in parseSpecial ? SpecialTokenSplitter.split(text, specialTokens) : [(text, false)] {
            defer { atStart = false }
            if special {
                output.append(ids[Array(piece.utf8)]!)
                continue
            }
            if piece.isEmpty { continue }
            let prefix: Bool
            switch spacePrefix {
            case .none: prefix = false
            case .always: prefix = true  // pieces alternate with special tokens: each follows one or starts the text
            // Hugging Face looks for `▁` after spaces became `▁`: a leading space or a written `▁` counts.
            case let .unlessSpace(firstOnly): prefix = (!firstOnly || atStart) && !ByteStrings.startsWith(piece, byte: 0x20) && !piece.hasPrefix("▁")
            }
            var bytes: [UInt8] = prefix ? [0xE2, 0x96, 0x81] : []
            for b in piece.utf8 { if b == 0x20 { bytes += [0xE2, 0x96, 0x81] } else { bytes.append(b) } }  // ' ' → '▁'
            output += tokenize(bytes)
        }
        if addSpecial, addEOS, let eos { output.append(eos) }
        return output
    }

    /// The merge loop over one escaped text (UTF-8): llama.cpp's `llm_tokenizer_spm_session` (the
    /// adjacent pair whose concatenation is the best-scoring token; ties → leftmost) or, loaded from
    /// a tokenizer.json, Hugging Face's (the listed pair of lowest rank; ties → leftmost). As both
    /// do, candidate pairs wait in a heap and symbols are linked left to right, so a text of n
    /// characters takes O(n log n); rescanning every pair after each merge was quadratic (a
    /// 100 KB line without a break took minutes, and SentencePiece has no pre-tokenizer to split it).
    func tokenize(_ text: [UInt8]) -> [Int] {
        var out: [Int] = [], previousUnknown = false
        guard newlineStandsAlone else {
            tokenize(text[...], into: &out, previousUnknown: &previousUnknown)
            return out
        }
        var lineStart = 0
        while lineStart < text.count {
            let end = text[lineStart...].firstIndex(of: 0x0A).map { $0 + 1 } ?? text.count
            tokenize(text[lineStart..<end], into: &out, previousUnknown: &previousUnknown)
            lineStart = end
        }
        return out
    }

    /// ``tokenize(_:)`` of one stretch of the text (indices are the whole text's), appended to
    /// `out`; `previousUnknown` carries a run of unknown pieces across stretches.
    private func tokenize(_ text: ArraySlice<UInt8>, into out: inout [Int], previousUnknown: inout Bool) {
        // Symbols: UTF-8 characters (a lead byte and its continuation bytes) as ranges of `text`.
        var start: [Int] = [], length: [Int] = []
        var i = text.startIndex
        while i < text.endIndex {
            var j = i + 1
            while j < text.endIndex, text[j] & 0xC0 == 0x80 { j += 1 }
            start.append(i)
            length.append(j - i)
            i = j
        }
        guard !start.isEmpty else { return }
        // A merged symbol and its right neighbour are adjacent in `text`: their pair is one range.
        let merged = MergeHeap.merge(lengths: length) { left, right, size in
            if let mergeRanks {
                let key = Array(text[start[left]..<start[right]]) + [0xFF] + Array(text[start[right]..<(start[left] + size)])
                return mergeRanks[key].map(Double.init)
            }
            return ids[Array(text[start[left]..<(start[left] + size)])].map { -Double(scores[$0]) }
        }
        let symbols = merged.map { Array(text[start[$0.index]..<(start[$0.index] + $0.length)]) }
        for symbol in symbols {
            if let id = ids[symbol] { out.append(id); previousUnknown = false; continue }
            let spelled = symbol.compactMap { byteTokens[Int($0)] }
            if spelled.count == symbol.count || unknown == nil {
                out += spelled
            } else if let unknown, !(fuseUnknown && previousUnknown) {
                out.append(unknown)
            }
            previousUnknown = spelled.count != symbol.count && unknown != nil
        }
    }

    /// The text of `ids`: `▁` back to spaces, byte tokens back to bytes.
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && id < tokens.count {
            let token = tokens[id]
            let utf8 = Array(token.utf8)
            if utf8.count == 6, utf8.starts(with: Array("<0x".utf8)), utf8[5] == 0x3E,
               let b = UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16) {
                bytes.append(b)
            } else {
                bytes += Array(ByteStrings.replace(token, "▁", " ").utf8)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Splits text around verbatim occurrences of special tokens (the earliest first; at one position
/// the longest).
enum SpecialTokenSplitter {
    /// The texts of the control (3) and user-defined (4) tokens among `tokens` (GGUF
    /// `tokenizer.ggml.token_type`; a missing type counts as normal), longest first.
    static func specialTokens(_ tokens: [String], types: [Int]) -> [String] {
        zip(tokens, types + Array(repeating: 1, count: max(0, tokens.count - types.count)))
            .filter { $0.1 == 3 || $0.1 == 4 }.map(\.0).filter { !$0.isEmpty }.sorted { $0.utf8.count > $1.utf8.count }
    }

    /// Pieces of `text` and whether each is a special token, matched on UTF-8 bytes.
    static func split(_ text: String, _ specialTokens: [String]) -> [(String, Bool)] {
        let bytes = Array(text.utf8)
        let patterns = specialTokens.map { Array($0.utf8) }.filter { !$0.isEmpty }
        guard !patterns.isEmpty else { return [(text, false)] }
        var pieces: [(String, Bool)] = []
        var start = 0, i = 0
        while i < bytes.count {
            // Longest special token starting here (patterns are sorted longest first).
            if let match = patterns.first(where: { i + $0.count <= bytes.count && bytes[i..<(i + $0.count)].elementsEqual($0) }) {
                if i > start { pieces.append((String(decoding: bytes[start..<i], as: UTF8.self), false)) }
                pieces.append((String(decoding: match, as: UTF8.self), true))
                i += match.count
                start = i
            } else {
                i += 1
            }
        }
        if start < bytes.count { pieces.append((String(decoding: bytes[start...], as: UTF8.self), false)) }
        return pieces.isEmpty ? [(text, false)] : pieces
    }
}
