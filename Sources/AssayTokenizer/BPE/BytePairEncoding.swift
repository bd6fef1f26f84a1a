import Foundation

/// Byte-level BPE as llama.cpp runs it for GGUF vocabularies of type `gpt2`: pre-tokenize
/// (``PreTokenizer``), map each word's UTF-8 bytes to GPT-2's printable byte alphabet, merge the
/// adjacent pair with the lowest merge rank (ties → leftmost) until none applies, look the pieces up
/// (unknown pieces fall back to their single bytes), optionally recognising special tokens in
/// the text and adding BOS/EOS.
public struct BytePairEncoding: Sendable {
    public let tokens: [String]
    public let ids: [String: Int]
    let ranks: [String: Int]
    public let preTokenizer: PreTokenizer
    /// Tokens recognised in the text when parsing special tokens (GGUF token types control and
    /// user-defined), longest first.
    public let specialTokens: [String]
    public let bos: Int?
    public let eos: Int?
    public let addBOS: Bool
    public let addEOS: Bool
    /// Prepend a space to each piece of raw text that does not start with one (Hugging Face
    /// `ByteLevel(add_prefix_space=True)`, RoBERTa).
    public let addPrefixSpace: Bool
    /// A word that is itself a token skips the merges (llama.cpp `ignore_merges`, tokenizer.json
    /// `"ignore_merges": true`).
    public let ignoreMerges: Bool
    /// Compose the text to NFC before anything else (tokenizer.json's `NFC` normalizer, Qwen2's).
    public let composeNFC: Bool

    /// GPT-2's bytes → printable characters table.
    static let byteToUnicode: [Unicode.Scalar] = {
        var bytes: [Int] = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var chars = bytes
        var n = 0
        for b in 0..<256 where !bytes.contains(b) {
            bytes.append(b)
            chars.append(256 + n)
            n += 1
        }
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        for (b, c) in zip(bytes, chars) { table[b] = Unicode.Scalar(UInt32(c))! }
        return table
    }()

    /// The inverse of ``byteToUnicode``.
    static let unicodeToByte: [UInt32: UInt8] = {
        var table: [UInt32: UInt8] = [:]
        for (b, c) in byteToUnicode.enumerated() { table[c.value] = UInt8(b) }
        return table
    }()

    /// Creates the tokenizer from GGUF metadata values.
    /// - Parameters:
    ///   - tokens: `tokenizer.ggml.tokens`.
    ///   - merges: `tokenizer.ggml.merges` ("left right", rank = position).
    ///   - tokenTypes: `tokenizer.ggml.token_type` (3 control, 4 user-defined count as special).
    ///   - pre: `tokenizer.ggml.pre`.
    /// - Throws: ``TokenizerError/unsupported(path:message:)`` for an unknown pre-tokenizer.
    public init(tokens: [String], merges: [String], tokenTypes: [Int], pre: String, bos: Int?, eos: Int?,
                addBOS: Bool, addEOS: Bool, source: String) throws {
        guard let preTokenizer = PreTokenizer.forGGUF(pre) else {
            throw TokenizerError.unsupported(path: source, message: "pre-tokenizer '\(pre)' is not supported (supported: \(PreTokenizer.supportedGGUFNames.joined(separator: ", ")))")
        }
        self.init(tokens: tokens, merges: merges, tokenTypes: tokenTypes, preTokenizer: preTokenizer, bos: bos, eos: eos,
                  addBOS: addBOS, addEOS: addEOS, addPrefixSpace: false, ignoreMerges: preTokenizer.ignoresMerges, composeNFC: false)
    }

    /// Creates the tokenizer from its parts (token types 3 and 4 are special).
    public init(tokens: [String], merges: [String], tokenTypes: [Int], preTokenizer: PreTokenizer, bos: Int?, eos: Int?,
                addBOS: Bool, addEOS: Bool, addPrefixSpace: Bool, ignoreMerges: Bool, composeNFC: Bool = false) {
        self.tokens = tokens
        var ids: [String: Int] = [:]
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = i }
        self.ids = ids
        var ranks: [String: Int] = [:]
        for (i, m) in merges.enumerated() where ranks[m] == nil { ranks[m] = i }
        self.ranks = ranks
        self.preTokenizer = preTokenizer
        specialTokens = SpecialTokenSplitter.specialTokens(tokens, types: tokenTypes)
        self.bos = bos
        self.eos = eos
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addPrefixSpace = addPrefixSpace
        self.ignoreMerges = ignoreMerges
        self.composeNFC = composeNFC
    }

    /// Token ids of `text`.
    /// - Parameters:
    ///   - addSpecial: add BOS/EOS as the vocabulary asks.
    ///   - parseSpecial: recognise special tokens written in the text.
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = false) -> [Int] {
        var output: [Int] = []
        if addSpecial, addBOS, let bos { output.append(bos) }
        // Words repeat: BPE each distinct word once per call. Keyed by scalars, not String, whose
        // equality is canonical: "é" and "e" + U+0301 would share an entry.
        var cache: [[Unicode.Scalar]: [Int]] = [:]
        for (piece, special) in parseSpecial ? splitSpecial(text) : [(text, false)] {
            if special { output.append(ids[piece]!); continue }
            if piece.isEmpty { continue }
            let normalized = composeNFC ? piece.precomposedStringWithCanonicalMapping : piece
            let piece = addPrefixSpace && !ByteStrings.startsWith(normalized, byte: 0x20) ? " " + normalized : normalized
            for word in preTokenizer.split(piece) {
                if let known = cache[word] { output += known; continue }
                let encoded = bpe(word)
                cache[word] = encoded
                output += encoded
            }
        }
        if addSpecial, addEOS, let eos { output.append(eos) }
        return output
    }

    /// The text of `ids`, bytes decoded from GPT-2's alphabet.
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && id < tokens.count {
            for s in tokens[id].unicodeScalars {
                if let b = Self.unicodeToByte[s.value] { bytes.append(b) } else { bytes += Array(String(s).utf8) }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func splitSpecial(_ text: String) -> [(String, Bool)] { SpecialTokenSplitter.split(text, specialTokens) }

    /// BPE over one word: the adjacent pair of lowest merge rank first (ties → leftmost), as
    /// llama.cpp's `llm_tokenizer_bpe_session` and Hugging Face's `merge_word` do — with a heap of
    /// candidate pairs over linked symbols, O(n log n) in the word's length. (A word can be long:
    /// Qwen2's and DeepSeek's expressions make a paragraph of Chinese one word.)
    func bpe(_ word: [Unicode.Scalar]) -> [Int] {
        var symbols: [String] = []
        for s in word { for b in String(s).utf8 { symbols.append(String(Self.byteToUnicode[Int(b)])) } }
        if symbols.isEmpty { return [] }
        if ignoreMerges, let id = ids[symbols.joined()] { return [id] }
        let merged = MergeHeap.merge(lengths: [Int](repeating: 1, count: symbols.count)) { left, right, _ in
            ranks[symbols[left] + " " + symbols[right]].map(Double.init)
        } join: { left, right in
            symbols[left] += symbols[right]
        }
        symbols = merged.map { symbols[$0.index] }
        var out: [Int] = []
        for symbol in symbols {
            if let id = ids[symbol] { out.append(id); continue }
            for s in symbol.unicodeScalars { if let id = ids[String(s)] { out.append(id) } }
        }
        return out
    }
}
