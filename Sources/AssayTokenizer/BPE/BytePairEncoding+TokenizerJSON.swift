import Foundation

extension BytePairEncoding {
    /// Loads a Hugging Face `tokenizer.json` with a byte-level BPE model (GPT-2, RoBERTa, Llama 3,
    /// Qwen2 style): `model.vocab`/`model.merges` (strings or pairs), `ignore_merges`, added tokens
    /// (matched in the text), the pre-tokenizer (`ByteLevel`; `Digits` + `ByteLevel`; `Split` with
    /// Llama 3's or Qwen2's pattern + `ByteLevel`) and `RobertaProcessing` or `BertProcessing`
    /// (`<s> … </s>`) when special tokens are added.
    /// - Throws: ``TokenizerError`` naming anything else.
    public init(tokenizerJSON url: URL) throws {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TokenizerError.unreadable(path: path, reason: error.localizedDescription) }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let model = root["model"] as? [String: Any] else {
            throw TokenizerError.malformed(path: path, message: "not a tokenizer.json (no \"model\" object)")
        }
        guard model["type"] as? String == "BPE", let vocab = model["vocab"] as? [String: Any], let rawMerges = model["merges"] as? [Any] else {
            throw TokenizerError.unsupported(path: path, message: "model type '\(model["type"] as? String ?? "?")' is not BPE with vocab and merges")
        }
        var tokens = [String](repeating: "", count: vocab.count)
        for (token, value) in vocab {
            guard let id = (value as? NSNumber)?.intValue, id >= 0, id < tokens.count else {
                throw TokenizerError.malformed(path: path, message: "vocab id of '\(token)' is missing or out of range")
            }
            tokens[id] = token
        }
        let merges: [String] = try rawMerges.map { merge in
            if let text = merge as? String { return text }
            if let pair = merge as? [String], pair.count == 2 { return pair[0] + " " + pair[1] }
            throw TokenizerError.malformed(path: path, message: "a merge is neither \"a b\" nor [\"a\", \"b\"]")
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
            types[id] = 4  // matched verbatim in the text, as Hugging Face extracts added tokens
        }
        let (preTokenizer, prefixSpace) = try Self.preTokenizer(root["pre_tokenizer"], path: path)
        var bos: Int?, eos: Int?
        if let post = root["post_processor"] as? [String: Any] {
            switch post["type"] as? String {
            case "RobertaProcessing", "BertProcessing":
                bos = ((post["cls"] as? [Any])?.last as? NSNumber)?.intValue
                eos = ((post["sep"] as? [Any])?.last as? NSNumber)?.intValue
            case "TemplateProcessing":
                (bos, eos) = try Self.template(post, path: path)
            case "ByteLevel": break
            default:
                throw TokenizerError.unsupported(path: path, message: "post_processor '\(post["type"] as? String ?? "?")' is not supported (RobertaProcessing, BertProcessing, TemplateProcessing, ByteLevel)")
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
        self.init(tokens: tokens, merges: merges, tokenTypes: types, preTokenizer: preTokenizer, bos: bos ?? configBOS, eos: eos ?? configEOS,
                  addBOS: bos != nil, addEOS: eos != nil, addPrefixSpace: prefixSpace,
                  ignoreMerges: model["ignore_merges"] as? Bool ?? false)
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

    static let llama3Pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
    static let qwen2Pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

    /// The pre-tokenizer and `add_prefix_space` of a tokenizer.json `pre_tokenizer`.
    static func preTokenizer(_ value: Any?, path: String) throws -> (PreTokenizer, Bool) {
        func unsupported() -> TokenizerError {
            .unsupported(path: path, message: "pre_tokenizer is not one of ByteLevel, Digits + ByteLevel, or Split (Llama 3 / Qwen2 pattern) + ByteLevel")
        }
        guard let object = value as? [String: Any], let type = object["type"] as? String else { throw unsupported() }
        if type == "ByteLevel" {
            guard object["use_regex"] as? Bool ?? true else { throw unsupported() }
            return (.gpt2, object["add_prefix_space"] as? Bool ?? false)
        }
        guard type == "Sequence", let steps = object["pretokenizers"] as? [[String: Any]], steps.count == 2,
              steps[1]["type"] as? String == "ByteLevel" else { throw unsupported() }
        let prefix = steps[1]["add_prefix_space"] as? Bool ?? false
        switch steps[0]["type"] as? String {
        case "Digits" where steps[0]["individual_digits"] as? Bool == true && steps[1]["use_regex"] as? Bool ?? true:
            return (.digitsThenGPT2, prefix)
        case "Split":
            let pattern = (steps[0]["pattern"] as? [String: Any])?["Regex"] as? String
            if pattern == llama3Pattern { return (.llama3, prefix) }
            if pattern == qwen2Pattern { return (.qwen2, prefix) }
            throw unsupported()
        default:
            throw unsupported()
        }
    }
}
