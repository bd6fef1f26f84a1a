import Foundation

extension BytePairEncoding {
    /// Loads a Hugging Face `tokenizer.json` with a byte-level BPE model (GPT-2, RoBERTa, Llama 3,
    /// Qwen2, DeepSeek-V3 style): `model.vocab`/`model.merges` (strings or pairs), `ignore_merges`,
    /// added tokens (matched in the text), the normalizer (none or `NFC`, as Qwen2 has), the
    /// pre-tokenizer (`ByteLevel`; `Digits` + `ByteLevel`; `Split` with Llama 3's or Qwen2's
    /// pattern, or DeepSeek-V3's three, + `ByteLevel`) and `RobertaProcessing`, `BertProcessing` or
    /// `TemplateProcessing` for the special tokens added.
    /// - Throws: ``TokenizerError`` naming anything else.
    public init(tokenizerJSON url: URL) throws {
        try self.init(TokenizerJSONFile(url))
    }

    init(_ file: TokenizerJSONFile) throws {
        let (preTokenizer, prefixSpace) = try Self.preTokenizer(file.root["pre_tokenizer"], path: file.path)
        self.init(tokens: file.tokens, merges: file.merges.map { $0.0 + " " + $0.1 }, tokenTypes: file.types, preTokenizer: preTokenizer,
                  bos: file.bos, eos: file.eos, addBOS: file.addBOS, addEOS: file.addEOS, addPrefixSpace: prefixSpace,
                  ignoreMerges: file.model["ignore_merges"] as? Bool ?? false,
                  composeNFC: try Self.composesNFC(file.root["normalizer"], path: file.path))
    }

    /// Whether a byte-level tokenizer.json's normalizer is NFC (Qwen2's) — none is the rule; any
    /// other normalizer would change the text in a way this tokenizer does not, so it is refused.
    static func composesNFC(_ value: Any?, path: String) throws -> Bool {
        guard let steps = TokenizerJSONFile.steps(value, key: "normalizers") else {
            throw TokenizerError.malformed(path: path, message: "normalizer is neither null nor an object")
        }
        let types = steps.map { $0["type"] as? String ?? "?" }
        switch types {
        case []: return false
        case ["NFC"]: return true
        default:
            throw TokenizerError.unsupported(path: path, message: "normalizer \(types.joined(separator: " + ")) is not supported for byte-level BPE (none or NFC)")
        }
    }

    static let llama3Pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
    static let qwen2Pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

    /// The pre-tokenizer and `add_prefix_space` of a tokenizer.json `pre_tokenizer`.
    static func preTokenizer(_ value: Any?, path: String) throws -> (PreTokenizer, Bool) {
        func unsupported() -> TokenizerError {
            .unsupported(path: path, message: "pre_tokenizer is not one of ByteLevel, Digits + ByteLevel, or Split (Llama 3, Qwen2 or DeepSeek-V3 patterns) + ByteLevel")
        }
        guard let object = value as? [String: Any], let type = object["type"] as? String else { throw unsupported() }
        if type == "ByteLevel" {
            guard object["use_regex"] as? Bool ?? true else { throw unsupported() }
            return (.gpt2, object["add_prefix_space"] as? Bool ?? false)
        }
        guard type == "Sequence", let steps = object["pretokenizers"] as? [[String: Any]], steps.count >= 2,
              let byteLevel = steps.last, byteLevel["type"] as? String == "ByteLevel" else { throw unsupported() }
        let prefix = byteLevel["add_prefix_space"] as? Bool ?? false
        let splits = steps.dropLast()
        if splits.count == 1, splits[0]["type"] as? String == "Digits" {
            guard splits[0]["individual_digits"] as? Bool == true, byteLevel["use_regex"] as? Bool ?? true else { throw unsupported() }
            return (.digitsThenGPT2, prefix)
        }
        // Split steps that isolate their matches, then ByteLevel without its own regex.
        let patterns = try splits.map { step -> String in
            guard step["type"] as? String == "Split", step["behavior"] as? String == "Isolated", step["invert"] as? Bool != true,
                  let pattern = (step["pattern"] as? [String: Any])?["Regex"] as? String else { throw unsupported() }
            return pattern
        }
        guard byteLevel["use_regex"] as? Bool == false else { throw unsupported() }
        // `\r` written as an escape or as the character itself is the same expression.
        func canonical(_ patterns: [String]) -> [String] {
            patterns.map { ByteStrings.replace(ByteStrings.replace($0, "\\r", "\r"), "\\n", "\n") }
        }
        switch canonical(patterns) {
        case canonical([llama3Pattern]): return (.llama3, prefix)
        case canonical([qwen2Pattern]): return (.qwen2, prefix)
        case canonical(RegexSequence.deepseekV3Patterns): return (.deepseekV3, prefix)
        default: break
        }
        throw unsupported()
    }
}
