import AssayFuzzHarness
import Foundation
import Testing

/// Every seed and every committed fuzz finding (`Fuzz/regressions/<target>/`) through the same
/// entry points the fuzzers use, without sanitizers: a trap here fails the test run. Errors must
/// say something and stay short (a hostile file must not become a megabyte message). A finding
/// that was a hang, filed as `timeout-<what>`, is replayed by `scripts/fuzz` under libFuzzer's
/// -timeout instead of here.
@Suite struct FuzzRegressionTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The files `pattern` names, as the shell expands it (a directory stands for its files), sorted.
    static func files(_ pattern: String) -> [URL] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard glob(repository.appendingPathComponent(pattern).path, 0, nil, &matches) == 0 else { return [] }
        let paths = (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }
        return paths.flatMap { path -> [URL] in
            let url = URL(fileURLWithPath: path)
            guard url.hasDirectoryPath || (try? url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true else { return [url] }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            return names.sorted().map { url.appendingPathComponent($0) }.filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == false }
        }
    }

    /// Seeds and regressions; a regression that was a hang (`timeout-…`, as libFuzzer names it)
    /// is left to scripts/fuzz, which replays it under a time limit.
    static func inputs(_ target: FuzzTarget) -> [URL] {
        target.seeds.flatMap(files) + files("Fuzz/regressions/\(target.rawValue)").filter { !$0.lastPathComponent.hasPrefix("timeout-") }
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedsAndRegressionsGiveShortErrorsNotTraps(_ target: FuzzTarget) throws {
        let inputs = Self.inputs(target)
        #expect(!inputs.isEmpty, "no seeds found for \(target.rawValue): \(target.seeds)")
        // The empty input first (libFuzzer always tries it), then the files.
        for (input, data) in [(URL(fileURLWithPath: "(empty input)"), Data())] + (try inputs.map { ($0, try Data(contentsOf: $0)) }) {
            for message in target.run(data) {
                #expect(!message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(input.lastPathComponent): an empty error message")
                #expect(message.utf8.count <= 4_000, "\(input.lastPathComponent): a \(message.utf8.count)-byte error message: \(message.prefix(200))…")
            }
        }
    }

    /// A valid input passes the parsers of its target (all but the ones named), so the fuzzers
    /// reach past the first check.
    @Test(arguments: [
        // A model without a tokenizer, a tokenizer without a model.
        (FuzzTarget.gguf, "Fixtures/models/tiny-llama.gguf", ["no tokenizer.ggml.model"]),
        (.gguf, "Fixtures/gguf/vocab-smollm.gguf", ["token_embd.weight' is missing"]),
        (.safetensors, "Fixtures/models/tiny-llama/model.safetensors", []),
        (.suite, "suites/examples/bleu.yaml", []),
        (.suite, "suites/examples/agreement.yaml", []),
        // Read once as a 200 response and once as a 500 one.
        (.events, "Fuzz/seeds/events/completions.txt", ["HTTP 500"]),
    ])
    func validInputsPass(_ target: FuzzTarget, _ path: String, _ expected: [String]) throws {
        let messages = target.run(try Data(contentsOf: Self.repository.appendingPathComponent(path)))
        #expect(messages.count == expected.count, "\(path): \(messages)")
        for (message, part) in zip(messages, expected) { #expect(message.contains(part), "\(path): \(message)") }
    }

    /// Inputs valid for one reading of a multi-format target: only the other readings fail.
    @Test func multiFormatTargetsAcceptTheirFormat() throws {
        func run(_ target: FuzzTarget, _ path: String) throws -> [String] {
            target.run(try Data(contentsOf: Self.repository.appendingPathComponent(path)))
        }
        // The decoder reading succeeds; the BERT reading names what a BERT config.json lacks.
        #expect(try run(.configJSON, "Fixtures/models/tiny-llama/config.json").count == 1)
        // As tokenizer.json it loads; as vocab.txt it is one long line of a vocabulary and loads too.
        #expect(try run(.tokenizer, "Fixtures/tokenizers/gpt2-like.json").count <= 1)
        #expect(try run(.tokenizer, "Fuzz/seeds/tokenizer/vocab.txt").count == 1)
        // CSV with numbers: both scales (1–5 categories, numeric) and every level pass as CSV.
        let ratings = try run(.ratings, "Fixtures/ratings/quickstart.csv")
        #expect(ratings.count == 6, "\(ratings.joined(separator: "\n"))")
    }

    @Test func regressionsAreFiledUnderATarget() throws {
        let directory = Self.repository.appendingPathComponent("Fuzz/regressions")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let targets = Set(FuzzTarget.allCases.map(\.rawValue))
        for name in names where name != "README.md" {
            #expect(targets.contains(name), "Fuzz/regressions/\(name) is not a fuzz target (\(targets.sorted().joined(separator: ", ")))")
        }
    }
}
