import AssayTokenizer
import Foundation

/// The tokenizer of a decoder-only model (byte-level BPE or SentencePiece BPE), with the special
/// tokens text generation and perplexity need.
public struct CausalTokenizer: Sendable {
    private let tokenizer: ModelTokenizer

    /// Loads the tokenizer of `url` (see ``ModelTokenizer/load(_:)``).
    /// - Throws: ``ModelError/unsupportedArchitecture(path:name:supported:)`` for a WordPiece
    ///   (encoder) vocabulary, or the loader's error.
    public init(loading url: URL) throws {
        let tokenizer = try ModelTokenizer.load(url)
        if case .wordPiece = tokenizer {
            throw ModelError.unsupportedArchitecture(path: url.path, name: "WordPiece encoder", supported: ["llama"])
        }
        self.tokenizer = tokenizer
    }

    /// The BOS id when the vocabulary adds BOS in front of a text, else `nil`.
    public var addedBOS: Int? {
        switch tokenizer {
        case let .bytePairEncoding(t): t.addBOS ? t.bos : nil
        case let .sentencePiece(t): t.addBOS ? t.bos : nil
        case .wordPiece: nil
        }
    }

    /// The beginning-of-sequence id, if the vocabulary has one (whether or not it is added).
    public var bos: Int? {
        switch tokenizer {
        case let .bytePairEncoding(t): t.bos
        case let .sentencePiece(t): t.bos
        case .wordPiece: nil
        }
    }

    /// A short name for signatures: `bpe` (byte-level BPE) or `spm` (SentencePiece BPE).
    public var name: String {
        switch tokenizer {
        case .bytePairEncoding: "bpe"
        case .sentencePiece: "spm"
        case .wordPiece: "wordpiece"
        }
    }

    /// The end-of-sequence id, if the vocabulary has one.
    public var eos: Int? {
        switch tokenizer {
        case let .bytePairEncoding(t): t.eos
        case let .sentencePiece(t): t.eos
        case .wordPiece: nil
        }
    }

    /// Number of token ids in the vocabulary.
    public var vocabularySize: Int {
        switch tokenizer {
        case let .bytePairEncoding(t): t.tokens.count
        case let .sentencePiece(t): t.tokens.count
        case .wordPiece: 0
        }
    }

    /// Ids of the special (control) tokens.
    public var specialTokenIDs: Set<Int> {
        let (tokens, special): ([String], [String]) = switch tokenizer {
        case let .bytePairEncoding(t): (t.tokens, t.specialTokens)
        case let .sentencePiece(t): (t.tokens, t.specialTokens)
        case .wordPiece: ([], [])
        }
        let specialSet = Set(special)
        return Set(tokens.indices.filter { specialSet.contains(tokens[$0]) })
    }

    /// Tokens that end generation, as llama.cpp collects them: EOS plus the special tokens whose
    /// text is a known end-of-turn marker (`<|im_end|>`, `<|endoftext|>`, `<|eot_id|>`, …).
    public var endOfGeneration: [Int] {
        let markers: Set<String> = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
                                    "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>", "<|end_of_text|>"]
        let (tokens, special): ([String], [String]) = switch tokenizer {
        case let .bytePairEncoding(t): (t.tokens, t.specialTokens)
        case let .sentencePiece(t): (t.tokens, t.specialTokens)
        case .wordPiece: ([], [])
        }
        let specialSet = Set(special)
        var ids = Set([eos].compactMap { $0 })
        for (id, text) in tokens.enumerated() where markers.contains(text) && specialSet.contains(text) { ids.insert(id) }
        return ids.sorted()
    }

    /// Token ids of `text` as llama.cpp's tokenizer gives them (BOS first when `addSpecial` and the
    /// vocabulary adds it).
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool) -> [Int] {
        switch tokenizer {
        case let .bytePairEncoding(t): t.encode(text, addSpecial: addSpecial, parseSpecial: parseSpecial)
        case let .sentencePiece(t): t.encode(text, addSpecial: addSpecial, parseSpecial: parseSpecial)
        case .wordPiece: []
        }
    }

    /// The text of `ids`.
    public func decode(_ ids: [Int]) -> String {
        switch tokenizer {
        case let .bytePairEncoding(t): t.decode(ids)
        case let .sentencePiece(t): t.decode(ids)
        case .wordPiece: ""
        }
    }
}
