import AssayCore
import AssayModels
import AssayTestSupport
import AssayTokenizer
import Foundation
import Testing

/// SmolLM2-135M-Instruct's GGUF tokenizer (byte-level BPE, pre-tokenizer `smollm`) against
/// llama.cpp (llama-cpp-python 0.3.36, vocab only) on strings written for Assay, with and
/// without special-token parsing (goldens from scripts/goldens/bpe_goldens.py).
struct BytePairEncodingTests {
    struct Case: Decodable { var text: String; var ids: [Int]; var ids_special: [Int] }
    struct File: Decodable { var cases: [Case] }

    static let cases: [Case] = {
        guard let url = Bundle.module.url(forResource: "Golden/bpe-smollm2", withExtension: "json"),
              let data = try? Data(contentsOf: url) else { return [] }
        return (try? JSONDecoder().decode(File.self, from: data).cases) ?? []
    }()

    static func model() throws -> URL { try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf") }

    @Test func atLeastFortyStrings() { #expect(Self.cases.count >= 40) }

    @Test func matchesLlamaCpp() throws {
        let url = try Self.model()
        guard case let .bytePairEncoding(tokenizer) = try ModelTokenizer.load(url) else {
            Issue.record("SmolLM2 should load as byte-level BPE")
            return
        }
        for c in Self.cases {
            #expect(tokenizer.encode(c.text, addSpecial: false, parseSpecial: false) == c.ids, "\(c.text.debugDescription)")
            #expect(tokenizer.encode(c.text, addSpecial: true, parseSpecial: true) == c.ids_special, "special: \(c.text.debugDescription)")
            #expect(tokenizer.decode(c.ids) == c.text, "round trip: \(c.text.debugDescription)")
        }
    }

    @Test func unsupportedPreTokenizerIsNamed() {
        #expect(throws: TokenizerError.self) {
            try BytePairEncoding(tokens: ["a"], merges: [], tokenTypes: [1], pre: "chatglm-bpe", bos: nil, eos: nil, addBOS: false, addEOS: false, source: "x.gguf")
        }
    }

    @Test func preTokenizerSplitsDigitsThenGPT2Words() {
        let words = PreTokenizer.digitsThenGPT2.split("it's 42  ok").map { String(String.UnicodeScalarView($0)) }
        #expect(words == ["it", "'s", " ", "4", "2", " ", " ok"])
    }
}

/// Whole files through the SmolLM2 tokenizer: WikiText-2 raw test and WMT English references,
/// read as `llama-perplexity -f` reads them; token count and SHA-256 of the ids (int32 LE) from
/// llama.cpp (scripts/goldens/bpe_goldens.py --files).
struct BytePairEncodingFileTests {
    struct Golden: Decodable { var count: Int; var sha256_int32le: String }

    @Test(arguments: ["wikitext2/wiki.test.raw", "wmt-mqm/newstest2021-zhen/newstest2021.zh-en.ref.A.en",
                      "wmt-mqm/generalmt2023-zhen-sxs/generaltest2023.zh-en.ref.refA.en"])
    func wholeFileMatchesLlamaCpp(_ name: String) throws {
        let model = try BytePairEncodingTests.model()
        let url = try TestEnvironment.sharedData(name)
        let goldenURL = try #require(Bundle.module.url(forResource: "Golden/bpe-smollm2-files", withExtension: "json"))
        let golden = try #require(try JSONDecoder().decode([String: Golden].self, from: Data(contentsOf: goldenURL))[name])
        guard case let .bytePairEncoding(tokenizer) = try ModelTokenizer.load(model) else { Issue.record("not BPE"); return }
        var bytes = try Data(contentsOf: url)
        if bytes.last == 0x0A { bytes.removeLast() }
        let ids = tokenizer.encode(try #require(String(data: bytes, encoding: .utf8)), addSpecial: false, parseSpecial: false)
        #expect(ids.count == golden.count)
        let packed = ids.map { Int32($0).littleEndian }.withUnsafeBytes { Data($0) }
        #expect(AssayCore.SHA256.hex(packed) == golden.sha256_int32le)
    }
}

/// Every supported pre-tokenizer family, and SentencePiece-style BPE, on vocab-only GGUF fixtures of our own
/// (Fixtures/gguf/vocab-<pre>.gguf, scripts/fixtures/make_vocab_fixtures.py) against llama.cpp
/// (scripts/goldens/bpe_goldens.py --fixtures).
struct PreTokenizerFixtureTests {
    struct Expected: Decodable { var ids: [Int]; var ids_special: [Int] }
    struct File: Decodable { var strings: [String]; var files: [String: [Expected]] }

    static let golden: File? = {
        guard let url = Bundle.module.url(forResource: "Golden/bpe-vocab-fixtures", withExtension: "json"),
              let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(File.self, from: data)
    }()

    @Test func everyFamilyIsCovered() {
        #expect(Set(Self.golden?.files.keys.map { $0 } ?? []) == ["vocab-gpt-2.gguf", "vocab-smollm.gguf", "vocab-llama-bpe.gguf",
                                                                 "vocab-qwen2.gguf", "vocab-deepseek-r1-qwen.gguf", "vocab-spm.gguf",
                                                                 "vocab-deepseek-llm.gguf", "vocab-deepseek-coder.gguf", "vocab-deepseek-v3.gguf",
                                                                 "vocab-spm-gemma.gguf"])
    }

    @Test(arguments: ["vocab-gpt-2.gguf", "vocab-smollm.gguf", "vocab-llama-bpe.gguf", "vocab-qwen2.gguf", "vocab-deepseek-r1-qwen.gguf",
                      "vocab-spm.gguf", "vocab-deepseek-llm.gguf", "vocab-deepseek-coder.gguf", "vocab-deepseek-v3.gguf",
                      "vocab-spm-gemma.gguf"])
    func matchesLlamaCpp(_ name: String) throws {
        let golden = try #require(Self.golden)
        let expected = try #require(golden.files[name])
        let encode: (String, Bool) -> [Int]
        switch try ModelTokenizer.load(TestEnvironment.root.appendingPathComponent("Fixtures/gguf/\(name)")) {
        case let .bytePairEncoding(t): encode = { t.encode($0, addSpecial: $1, parseSpecial: $1) }
        case let .sentencePiece(t):
            encode = { t.encode($0, addSpecial: $1, parseSpecial: $1) }
            // decode keeps the space the encoder prepended (add_space_prefix; not with Gemma's settings).
            let prefix = t.addSpacePrefix ? " " : ""
            for text in golden.strings {
                #expect(t.decode(t.encode(text, addSpecial: false)) == (text.isEmpty ? "" : prefix + text), "round trip \(text.debugDescription)")
            }
        case .wordPiece:
            Issue.record("\(name) loaded as WordPiece")
            return
        }
        for (text, e) in zip(golden.strings, expected) {
            #expect(encode(text, false) == e.ids, "\(name): \(text.debugDescription)")
            #expect(encode(text, true) == e.ids_special, "\(name) special: \(text.debugDescription)")
        }
    }
}

/// Byte-level BPE from Hugging Face tokenizer.json files (RoBERTa-style with `<s> … </s>` and a
/// prefix space; GPT-2-style), trained on our own text (scripts/fixtures/make_tokenizer_json_fixtures.py),
/// against `tokenizers` on the same strings.
struct TokenizerJSONBPETests {
    struct Expected: Decodable { var ids: [Int]; var ids_special: [Int] }
    struct File: Decodable { var strings: [String]; var files: [String: [Expected]] }

    @Test(arguments: ["roberta-like.json", "gpt2-like.json"])
    func matchesHuggingFace(_ name: String) throws {
        let url = try #require(Bundle.module.url(forResource: "Golden/tokenizer-json-fixtures", withExtension: "json"))
        let golden = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
        let expected = try #require(golden.files[name])
        guard case let .bytePairEncoding(tokenizer) = try ModelTokenizer.load(TestEnvironment.root.appendingPathComponent("Fixtures/tokenizers/\(name)")) else {
            Issue.record("\(name) did not load as BPE")
            return
        }
        for (text, e) in zip(golden.strings, expected) {
            #expect(tokenizer.encode(text, addSpecial: false, parseSpecial: true) == e.ids, "\(name): \(text.debugDescription)")
            #expect(tokenizer.encode(text, addSpecial: true, parseSpecial: true) == e.ids_special, "\(name) special: \(text.debugDescription)")
        }
    }
}

/// `TemplateProcessing` (what transformers writes for Llama-style tokenizers) and the BOS/EOS a
/// `tokenizer_config.json` names beside the file.
struct TemplateProcessingTests {
    func variant(_ post: Any?, config: [String: Any]?) throws -> BytePairEncoding {
        let directory = try TestEnvironment.temporaryDirectory("assay-template")
        var root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: TestEnvironment.root.appendingPathComponent("Fixtures/tokenizers/gpt2-like.json"))) as? [String: Any])
        root["post_processor"] = post ?? NSNull()
        let url = directory.appendingPathComponent("tokenizer.json")
        try JSONSerialization.data(withJSONObject: root).write(to: url)
        if let config { try JSONSerialization.data(withJSONObject: config).write(to: directory.appendingPathComponent("tokenizer_config.json")) }
        return try BytePairEncoding(tokenizerJSON: url)
    }

    @Test func bosFromTheTemplateAndNamesFromTheConfig() throws {
        let plain = try BytePairEncoding(tokenizerJSON: TestEnvironment.root.appendingPathComponent("Fixtures/tokenizers/gpt2-like.json"))
        let ids = plain.encode("Hello there.", addSpecial: false)
        let endOfText = try #require(plain.tokens.firstIndex(of: "<|endoftext|>"))
        let withBOS = try variant(["type": "TemplateProcessing",
                                   "single": [["SpecialToken": ["id": "<|endoftext|>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]],
                                   "special_tokens": ["<|endoftext|>": ["id": "<|endoftext|>", "ids": [endOfText], "tokens": ["<|endoftext|>"]]]],
                                  config: nil)
        #expect(withBOS.addBOS && withBOS.bos == endOfText && withBOS.encode("Hello there.", addSpecial: true) == [endOfText] + ids)
        // Nothing added, but the config names BOS and EOS (as `{"content": …}` or a plain string).
        let named = try variant(["type": "TemplateProcessing", "single": [["Sequence": ["id": "A", "type_id": 0]]], "special_tokens": [:]],
                                config: ["bos_token": ["content": "<|endoftext|>"], "eos_token": "<|endoftext|>"])
        #expect(!named.addBOS && named.bos == endOfText && named.eos == endOfText && named.encode("Hello there.", addSpecial: true) == ids)
        #expect(throws: TokenizerError.self) {
            try variant(["type": "TemplateProcessing", "single": [["SpecialToken": ["id": "x"]], ["SpecialToken": ["id": "y"]], ["Sequence": ["id": "A"]]],
                         "special_tokens": [:]], config: nil)
        }
    }
}

/// Regression: text is matched on bytes, not Swift graphemes or canonical equivalents — a special
/// token followed by a combining mark is still the special token, and "e" + U+0301 is not "é"
/// (ids from llama.cpp on the vocab fixtures).
struct GraphemeRegressionTests {
    @Test func specialTokenFollowedByCombiningMark() throws {
        guard case let .sentencePiece(spm) = try ModelTokenizer.load(TestEnvironment.root.appendingPathComponent("Fixtures/gguf/vocab-spm.gguf")),
              case let .bytePairEncoding(bpe) = try ModelTokenizer.load(TestEnvironment.root.appendingPathComponent("Fixtures/gguf/vocab-smollm.gguf")) else {
            Issue.record("fixtures did not load")
            return
        }
        #expect(spm.encode("<|user|>\u{301}x e\u{301}", addSpecial: false, parseSpecial: true) == [259, 341, 207, 132, 327, 386, 207, 132])
        #expect(bpe.encode("<|user|>\u{301} \u{301}a", addSpecial: false, parseSpecial: true) == [2, 139, 226, 223, 139, 226, 67])
    }
}
