import Foundation

extension SentencePieceBPE {
    /// Loads a Hugging Face `tokenizer.json` of SentencePiece-style BPE, as transformers converts
    /// Llama 2, Mistral and Gemma tokenizers: a `BPE` model with `byte_fallback`, and spaces
    /// written as `▁` either by the normalizer (`Prepend("▁")` + `Replace(" ", "▁")`, or `Replace`
    /// alone for Gemma, whose `Split(" ")` pre-tokenizer then finds no space) or by a `Metaspace`
    /// pre-tokenizer (`prepend_scheme` always, first or never; `split` false).
    /// - Throws: ``TokenizerError`` naming any other normalizer or pre-tokenizer.
    public init(tokenizerJSON url: URL) throws {
        try self.init(TokenizerJSONFile(url))
    }

    init(_ file: TokenizerJSONFile) throws {
        let spacePrefix = try Self.spacePrefix(normalizer: file.root["normalizer"], preTokenizer: file.root["pre_tokenizer"], path: file.path)
        var ranks: [[UInt8]: Int] = [:]
        for (rank, (left, right)) in file.merges.enumerated() where ranks[Array(left.utf8) + [0xFF] + Array(right.utf8)] == nil {
            ranks[Array(left.utf8) + [0xFF] + Array(right.utf8)] = rank
        }
        let unknown = (file.model["unk_token"] as? String).flatMap { file.tokens.firstIndex(of: $0) }
        guard file.model["ignore_merges"] as? Bool != true else {
            throw TokenizerError.unsupported(path: file.path, message: "ignore_merges true is not supported for SentencePiece-style BPE")
        }
        self.init(tokens: file.tokens, scores: [Float](repeating: 0, count: file.tokens.count), tokenTypes: file.types,
                  bos: file.bos, eos: file.eos, addBOS: file.addBOS, addEOS: file.addEOS, spacePrefix: spacePrefix,
                  mergeRanks: ranks, unknown: unknown, byteFallback: file.model["byte_fallback"] as? Bool ?? false,
                  fuseUnknown: file.model["fuse_unk"] as? Bool ?? false)
    }

    /// The prefix rule of a SentencePiece-style tokenizer.json, from the two shapes transformers
    /// writes; anything else is refused rather than run differently.
    static func spacePrefix(normalizer: Any?, preTokenizer: Any?, path: String) throws -> SpacePrefix {
        func unsupported(_ what: String) -> TokenizerError {
            .unsupported(path: path, message: "\(what) is not supported for SentencePiece-style BPE (normalizer Prepend(\"▁\") + Replace(\" \", \"▁\") or Replace alone with no pre-tokenizer or Split(\" \"); or no normalizer and a Metaspace pre-tokenizer with split false)")
        }
        guard let normalizers = TokenizerJSONFile.steps(normalizer, key: "normalizers"),
              let preTokenizers = TokenizerJSONFile.steps(preTokenizer, key: "pretokenizers") else {
            throw unsupported("a normalizer or pre_tokenizer that is neither null nor an object")
        }
        func describe(_ steps: [[String: Any]]) -> String { steps.map { $0["type"] as? String ?? "?" }.joined(separator: " + ") }
        func isReplaceSpace(_ step: [String: Any]) -> Bool {
            step["type"] as? String == "Replace" && (step["pattern"] as? [String: Any])?["String"] as? String == " " && step["content"] as? String == "▁"
        }
        if normalizers.isEmpty {
            guard preTokenizers.count == 1, let metaspace = preTokenizers.first, metaspace["type"] as? String == "Metaspace",
                  metaspace["replacement"] as? String == "▁", metaspace["split"] as? Bool == false else {
                throw unsupported("pre_tokenizer \(describe(preTokenizers)) without a normalizer")
            }
            // Files written before tokenizers 0.14 say add_prefix_space instead of prepend_scheme.
            let scheme = metaspace["prepend_scheme"] as? String ?? ((metaspace["add_prefix_space"] as? Bool ?? true) ? "always" : "never")
            switch scheme {
            case "always": return .unlessSpace(firstOnly: false)
            case "first": return .unlessSpace(firstOnly: true)
            case "never": return .none
            default: throw unsupported("Metaspace prepend_scheme '\(scheme)'")
            }
        }
        let prepends = normalizers.count == 2 && normalizers[0]["type"] as? String == "Prepend" && normalizers[0]["prepend"] as? String == "▁"
        guard let last = normalizers.last, isReplaceSpace(last), normalizers.count == 1 || prepends else {
            throw unsupported("normalizer \(describe(normalizers))")
        }
        // After the Replace no space is left for a Split(" ") to find.
        let splitsSpaces = preTokenizers.count == 1 && preTokenizers[0]["type"] as? String == "Split"
            && (preTokenizers[0]["pattern"] as? [String: Any])?["String"] as? String == " "
        guard preTokenizers.isEmpty || splitsSpaces else { throw unsupported("pre_tokenizer \(describe(preTokenizers)) after a Replace normalizer") }
        return prepends ? .always : .none
    }
}
