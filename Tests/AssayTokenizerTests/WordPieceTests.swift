import AssayTestSupport
import AssayTokenizer
import Foundation
import Testing

/// all-MiniLM-L6-v2's WordPiece tokenizer against Hugging Face `tokenizers` on strings written for
/// Assay (goldens from scripts/goldens/wordpiece_goldens.py).
struct WordPieceTests {
    struct Case: Decodable { var text: String; var ids: [Int]; var tokens: [String]; var decoded: String }
    struct File: Decodable { var tokenizers: String; var cases: [Case] }

    static let cases: [Case] = {
        guard let url = Bundle.module.url(forResource: "Golden/wordpiece-minilm", withExtension: "json"),
              let data = try? Data(contentsOf: url) else { return [] }
        return (try? JSONDecoder().decode(File.self, from: data).cases) ?? []
    }()

    static func modelDirectory() throws -> URL { try TestEnvironment.model("all-minilm-l6-v2/tokenizer.json").deletingLastPathComponent() }

    @Test func atLeastFortyStrings() { #expect(Self.cases.count >= 40) }

    @Test func tokenizerJSONMatchesHuggingFace() throws {
        let directory = try Self.modelDirectory()
        let tokenizer = try WordPieceTokenizer(tokenizerJSON: directory.appendingPathComponent("tokenizer.json"))
        for c in Self.cases {
            let ids = tokenizer.encode(c.text)
            #expect(ids == c.ids, "\(c.text.debugDescription): \(tokenizer.tokens(of: ids)) vs \(c.tokens)")
            #expect(tokenizer.decode(c.ids) == c.decoded, "decode \(c.text.debugDescription)")
        }
    }

    @Test func vocabTXTGivesTheSameIDs() throws {
        let directory = try Self.modelDirectory()
        let tokenizer = try WordPieceTokenizer(vocabTXT: directory.appendingPathComponent("vocab.txt"))
        for c in Self.cases { #expect(tokenizer.encode(c.text) == c.ids, "\(c.text.debugDescription)") }
    }

    @Test func notAWordPieceFileIsRejected() throws {
        let url = try TestEnvironment.temporaryDirectory("assay-wordpiece").appendingPathComponent("bpe.json")
        try #"{"model": {"type": "BPE", "vocab": {}}}"#.write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: TokenizerError.unsupported(path: url.path, message: "model type 'BPE' is not WordPiece")) {
            try WordPieceTokenizer(tokenizerJSON: url)
        }
    }
}
