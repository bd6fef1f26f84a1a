import AssayModels
import AssayTestSupport
@testable import AssayTokenizer
import Foundation
import Testing

/// The tokenizers of the architectures Assay runs, against Hugging Face `tokenizers` and
/// SentencePiece (goldens from scripts/goldens/hf_tokenizer_goldens.py), on our own vocabularies
/// (the ones Fixtures/gguf/vocab-*.gguf holds, which BytePairEncodingTests checks against
/// llama.cpp): tokenizer.json files shaped as the released models' (Llama 3; Qwen2 with NFC;
/// DeepSeek-V3's three Split steps; Llama 2 / Mistral as transformers converts them, legacy and
/// Metaspace; Gemma), and the GGUF files against the same references.
struct HuggingFaceTokenizerTests {
    struct Entry: Decodable { var gguf: String; var hf: [[Int]]; var hf_special: [[Int]]?; var sentencepiece: [[Int]]? }
    struct File: Decodable { var strings: [String]; var files: [String: Entry] }

    static let golden: File? = {
        guard let url = Bundle.module.url(forResource: "Golden/hf-tokenizer-fixtures", withExtension: "json"),
              let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(File.self, from: data)
    }()

    /// The strings shared with the llama.cpp goldens; the rest put text around added tokens, where
    /// llama.cpp, SentencePiece and each tokenizer.json shape place `▁` differently.
    static let sharedCount = 64

    static func encoder(_ url: URL) throws -> (String, Bool) -> [Int] {
        switch try ModelTokenizer.load(url) {
        case let .bytePairEncoding(t): return { t.encode($0, addSpecial: $1, parseSpecial: true) }
        case let .sentencePiece(t): return { t.encode($0, addSpecial: $1, parseSpecial: true) }
        case .wordPiece: throw TokenizerError.unsupported(path: url.path, message: "loaded as WordPiece")
        }
    }

    @Test func everyShapeIsCovered() throws {
        let golden = try #require(Self.golden)
        #expect(Set(golden.files.keys) == ["llama3-like.json", "qwen2-like.json", "deepseek-v3-like.json", "spm-legacy-like.json",
                                           "spm-metaspace-like.json", "gemma-like.json"])
        #expect(golden.strings.count == Self.sharedCount + 8)
    }

    @Test(arguments: ["llama3-like.json", "qwen2-like.json", "deepseek-v3-like.json", "spm-legacy-like.json", "spm-metaspace-like.json",
                      "gemma-like.json"])
    func tokenizerJSONMatchesHuggingFace(_ name: String) throws {
        let golden = try #require(Self.golden)
        let entry = try #require(golden.files[name])
        let url = TestEnvironment.root.appendingPathComponent("Fixtures/tokenizers/\(name)")
        let sentencePiece: Bool
        switch try ModelTokenizer.load(url) {
        case .sentencePiece: sentencePiece = true
        default: sentencePiece = false
        }
        #expect(sentencePiece == (entry.sentencepiece != nil), "\(name) loaded as the wrong kind")
        let encode = try Self.encoder(url)
        for (index, text) in golden.strings.enumerated() {
            #expect(encode(text, false) == entry.hf[index], "\(name): \(text.debugDescription)")
            if let special = entry.hf_special { #expect(encode(text, true) == special[index], "\(name) special: \(text.debugDescription)") }
        }
    }

    /// The GGUF path equals SentencePiece itself (the Llama 2 / Gemma settings) and Hugging Face
    /// (byte-level) on every shared string, with one difference that is Qwen2's tokenizer.json's,
    /// not ours: its NFC normalizer composes "e" + U+0301, which llama.cpp (and the GGUF path)
    /// leaves decomposed.
    @Test(arguments: ["llama3-like.json", "qwen2-like.json", "deepseek-v3-like.json", "spm-legacy-like.json", "gemma-like.json"])
    func ggufMatchesTheModelsOwnTokenizer(_ name: String) throws {
        let golden = try #require(Self.golden)
        let entry = try #require(golden.files[name])
        let encode = try Self.encoder(TestEnvironment.root.appendingPathComponent("Fixtures/gguf/\(entry.gguf)"))
        let expected = entry.sentencepiece ?? entry.hf
        var differing: [String] = []
        for (index, text) in golden.strings.prefix(Self.sharedCount).enumerated() where encode(text, false) != expected[index] {
            differing.append(text)
            #expect(encode(text.precomposedStringWithCanonicalMapping, false) == expected[index], "\(name): \(text.debugDescription)")
        }
        // Compared as scalars: Swift's == would call "e" + U+0301 and "é" equal.
        let decomposed = golden.strings.prefix(Self.sharedCount).filter {
            !$0.unicodeScalars.elementsEqual($0.precomposedStringWithCanonicalMapping.unicodeScalars)
        }
        #expect(!decomposed.isEmpty)
        #expect(differing == (name == "qwen2-like.json" ? Array(decomposed) : []))
    }

    @Test func refusesWhatItWouldRunDifferently() throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-hf-shapes")
        func variant(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> URL {
            let source = TestEnvironment.root.appendingPathComponent("Fixtures/tokenizers/\(name)")
            var root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any])
            edit(&root)
            let url = directory.appendingPathComponent(UUID().uuidString + ".json")
            try JSONSerialization.data(withJSONObject: root).write(to: url)
            return url
        }
        let cases: [(String, (inout [String: Any]) -> Void, String)] = [
            ("qwen2-like.json", { $0["normalizer"] = ["type": "Lowercase"] }, "normalizer Lowercase"),
            ("llama3-like.json", { root in
                var pre = root["pre_tokenizer"] as? [String: Any] ?? [:]
                var steps = pre["pretokenizers"] as? [[String: Any]] ?? []
                steps[0]["pattern"] = ["Regex": "\\s+"]
                pre["pretokenizers"] = steps
                root["pre_tokenizer"] = pre
            }, "pre_tokenizer is not one of"),
            ("spm-legacy-like.json", { $0["normalizer"] = ["type": "Sequence", "normalizers": [["type": "NFKC"], ["type": "Replace", "pattern": ["String": " "], "content": "▁"]]] },
             "normalizer NFKC + Replace"),
            ("spm-metaspace-like.json", { root in
                var pre = root["pre_tokenizer"] as? [String: Any] ?? [:]
                pre["split"] = true
                root["pre_tokenizer"] = pre
            }, "pre_tokenizer Metaspace without a normalizer"),
            ("gemma-like.json", { root in
                var model = root["model"] as? [String: Any] ?? [:]
                model["dropout"] = 0.1
                root["model"] = model
            }, "model.dropout 0.1 is not supported"),
            ("llama3-like.json", { root in
                var model = root["model"] as? [String: Any] ?? [:]
                model["continuing_subword_prefix"] = "##"
                root["model"] = model
            }, "model.continuing_subword_prefix ## is not supported"),
        ]
        for (name, edit, message) in cases {
            let url = try variant(name, edit)
            #expect {
                _ = try ModelTokenizer.load(url)
            } throws: { error in
                guard case let .unsupported(path, text) = error as? TokenizerError else { return false }
                return path == url.path && text.contains(message)
            }
        }
    }

    /// SentencePiece text goes through the merges one line at a time only when no merge can take a
    /// newline; a run of unknown pieces still becomes one `<unk>` across a line break.
    @Test func linesAreTokenizedApartOnlyWhenNothingMergesANewline() {
        func tokenizer(_ tokens: [String], unknown: Int? = nil, byteFallback: Bool = true) -> SentencePieceBPE {
            SentencePieceBPE(tokens: tokens, scores: tokens.indices.map { -Float($0) }, tokenTypes: [], bos: nil, eos: nil, addBOS: false,
                             addEOS: false, spacePrefix: .none, mergeRanks: nil, unknown: unknown, byteFallback: byteFallback, fuseUnknown: true)
        }
        let apart = tokenizer(["<unk>", "a", "b", "\n", "ab"])
        #expect(apart.newlineStandsAlone && apart.encode("ab\nab\n\nb", addSpecial: false) == [4, 3, 4, 3, 3, 2])
        let joined = tokenizer(["<unk>", "a", "b", "\n", "a\n", "a\nb"])
        #expect(!joined.newlineStandsAlone && joined.encode("a\nb\na", addSpecial: false) == [5, 3, 1])
        let unknowns = tokenizer(["<unk>", "a"], unknown: 0, byteFallback: false)
        #expect(unknowns.newlineStandsAlone && unknowns.encode("xy\nz\na\nq", addSpecial: false) == [0, 1, 0])
    }

    /// Merges written as "a b" strings (older files) split at the space scalar, even when a
    /// combining mark follows it; a pair listed twice takes its last rank, as in Hugging Face.
    @Test func stringMergesAndDuplicates() throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-hf-merges")
        let source = TestEnvironment.root.appendingPathComponent("Fixtures/tokenizers/spm-legacy-like.json")
        var root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any])
        var model = try #require(root["model"] as? [String: Any])
        let pairs = try #require(model["merges"] as? [[String]])
        let url = directory.appendingPathComponent("tokenizer.json")
        func write(_ merges: [String]) throws {
            model["merges"] = merges
            root["model"] = model
            try JSONSerialization.data(withJSONObject: root).write(to: url)
        }
        try write(pairs.map { $0[0] + " " + $0[1] })
        let reference = try SentencePieceBPE(tokenizerJSON: source)
        for text in ["Hello there, world", "naïve café Größe", "tabs\tand  spaces"] {
            #expect(try SentencePieceBPE(tokenizerJSON: url).encode(text, addSpecial: false) == reference.encode(text, addSpecial: false))
        }
        try write(pairs.map { $0[0] + " " + $0[1] } + [pairs[0][0] + " " + pairs[0][1]])  // the first pair again, last
        #expect(try SentencePieceBPE(tokenizerJSON: url).mergeRanks?[Array(pairs[0][0].utf8) + [0xFF] + Array(pairs[0][1].utf8)] == pairs.count - 1)
        // "e" and a combining acute after the space: one Character, still two parts.
        try write(["e \u{301}"])
        #expect(try SentencePieceBPE(tokenizerJSON: url).mergeRanks?.count == 1)
    }
}
