import AssayCLI
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

    static func model() -> URL? {
        let environment = ProcessInfo.processInfo.environment
        let models = environment["ASSAY_MODELS"] ?? (environment["HOME"] ?? "") + "/.cache/assay/models"
        let url = URL(fileURLWithPath: models).appendingPathComponent("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        if FileManager.default.fileExists(atPath: url.path) { return url }
        if environment["CI"] == "true" { Issue.record("model missing at \(url.path) (CI must not skip)") }
        else { print("skipping: \(url.path) not found (run scripts/fetch-models.sh)") }
        return nil
    }

    @Test func atLeastFortyStrings() { #expect(Self.cases.count >= 40) }

    @Test func matchesLlamaCpp() throws {
        guard let url = Self.model() else { return }
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
            try BytePairEncoding(tokens: ["a"], merges: [], tokenTypes: [1], pre: "llama-bpe", bos: nil, eos: nil, addBOS: false, addEOS: false, source: "x.gguf")
        }
    }

    @Test func preTokenizerSplitsDigitsThenGPT2Words() {
        let words = PreTokenizer.digitsThenGPT2.split("it's 42  ok").map { String(String.UnicodeScalarView($0)) }
        #expect(words == ["it", "'s", " ", "4", "2", " ", " ok"])
    }
}
