import AssayCheckpoint
import AssayMetrics
import AssayModels
import AssayProcedures
import AssayTestSupport
import Foundation
import Testing

/// lm-evaluation-harness's rolling windows and the wikitext task's word/byte counting.
struct RollingWindowTests {
    typealias W = RollingPerplexity.Window

    /// Expected values printed by lm-eval 0.4.13: `make_disjoint_window` over
    /// `get_rolling_token_windows(list(range(1, 11)), 0, 4, context_len)`, then
    /// `(context + continuation)[-(max_length + 1):][:-1]` as HFLM feeds the model.
    @Test func windowsMatchLMEval() {
        let tokens = Array(1...10)
        #expect(RollingPerplexity.windows(tokens: tokens, prefix: 0, context: 4, stride: 4) == [
            W(input: [0, 1, 2, 3], targets: [1, 2, 3, 4]),
            W(input: [4, 5, 6, 7], targets: [5, 6, 7, 8]),
            W(input: [6, 7, 8, 9], targets: [9, 10]),
        ])
        // context_len = 3 → 2 tokens predicted per later window.
        #expect(RollingPerplexity.windows(tokens: tokens, prefix: 0, context: 4, stride: 2) == [
            W(input: [0, 1, 2, 3], targets: [1, 2, 3, 4]),
            W(input: [2, 3, 4, 5], targets: [5, 6]),
            W(input: [4, 5, 6, 7], targets: [7, 8]),
            W(input: [6, 7, 8, 9], targets: [9, 10]),
        ])
    }

    @Test func shortAndEmptyDocuments() {
        #expect(RollingPerplexity.windows(tokens: [7], prefix: 1, context: 8, stride: 8) == [W(input: [1], targets: [7])])
        #expect(RollingPerplexity.windows(tokens: [5, 6, 7], prefix: 1, context: 3, stride: 3) == [W(input: [1, 5, 6], targets: [5, 6, 7])])
        #expect(RollingPerplexity.windows(tokens: [], prefix: 1, context: 8, stride: 8).isEmpty)
    }

    /// Every token is predicted exactly once, from at most `context` inputs, for many lengths.
    @Test func everyTokenPredictedOnce() {
        for n in 1...40 {
            for (context, stride) in [(5, 5), (5, 1), (8, 3), (1, 1)] {
                let tokens = Array(100..<(100 + n))
                let windows = RollingPerplexity.windows(tokens: tokens, prefix: 0, context: context, stride: stride)
                #expect(windows.flatMap(\.targets) == tokens)
                for w in windows {
                    #expect(w.input.count <= context && w.targets.count <= w.input.count)
                    // The input's positions line up: the token before each target is its input.
                    let offset = w.input.count - w.targets.count
                    for (i, t) in w.targets.enumerated() where t > 100 { #expect(w.input[offset + i] == t - 1) }
                }
            }
        }
    }

    /// `len(re.split(r"\s+", s))` as Python computes it.
    @Test func pythonWhitespaceSplitCount() {
        #expect(PythonText.whitespaceSplitCount("") == 1)
        #expect(PythonText.whitespaceSplitCount("a b  c") == 3)
        #expect(PythonText.whitespaceSplitCount(" a b ") == 4)
        #expect(PythonText.whitespaceSplitCount("a\u{A0}b\u{3000}c\u{1F}d") == 4)
        #expect(PythonText.whitespaceSplitCount("a\u{200B}b") == 1)  // zero-width space is not \s
        #expect(PythonText.whitespaceSplitCount("a\r\nb") == 2)
    }
}

struct DocumentSplitTests {
    @Test func paragraphsLinesAndFile() throws {
        let text = " = Title = \n \n First line.\nsecond line.\n\n\t\nLast\r\npara\n"
        #expect(try DocumentSplit.paragraphs.documents(of: text, path: "t") == [" = Title = ", " First line.\nsecond line.", "Last\r\npara"])
        #expect(try DocumentSplit.lines.documents(of: text, path: "t") == [" = Title = ", " First line.", "second line.", "Last\r", "para"])
        #expect(try DocumentSplit.file.documents(of: text, path: "t") == [String(text.dropLast())])
        #expect(try DocumentSplit.file.documents(of: "a\r\n", path: "t") == ["a\r"])
    }

    @Test func jsonlFieldsAndErrors() throws {
        #expect(try DocumentSplit.jsonl(field: "body").documents(of: "{\"body\": \"x y\"}\n\n{\"body\": \"z\", \"n\": 1}\n", path: "d.jsonl") == ["x y", "z"])
        #expect(throws: ProcedureError.malformedDocument(path: "d.jsonl", line: 2,
                                                         message: "not valid JSON: Invalid value around character 1")) {
            try DocumentSplit.jsonl(field: "text").documents(of: "{\"text\": \"a\"}\n{oops\n", path: "d.jsonl")
        }
        #expect(throws: ProcedureError.malformedDocument(path: "d.jsonl", line: 1, message: "no field 'text'")) {
            try DocumentSplit.jsonl(field: "text").documents(of: "{\"body\": \"a\"}", path: "d.jsonl")
        }
        #expect(throws: ProcedureError.malformedDocument(path: "d.jsonl", line: 1, message: "field 'text' is not a string")) {
            try DocumentSplit.jsonl(field: "text").documents(of: "{\"text\": 3}", path: "d.jsonl")
        }
        #expect(throws: ProcedureError.emptyDocument(path: "d.jsonl", line: 3)) {
            try DocumentSplit.jsonl(field: "text").documents(of: "{\"text\": \"a\"}\n\n{\"text\": \"\"}", path: "d.jsonl")
        }
    }

    @Test func textWithoutDocumentsIsAnError() {
        for split in [DocumentSplit.file, .paragraphs, .lines] {
            #expect(throws: ProcedureError.emptyDocument(path: "e.txt", line: nil)) { try split.documents(of: split == .file ? "\n" : " \n\t\n", path: "e.txt") }
        }
    }
}

/// `mode: rolling` against lm-evaluation-harness 0.4.13's `loglikelihood_rolling` (HFLM driving a
/// transformers model loaded from the same GGUF, float32): the first 40 lines of WikiText-2's raw
/// test file as documents, max_length 128 (scripts/goldens/lm_eval_rolling_goldens.py). Same
/// tokens per document; log-likelihoods and word/byte perplexity within 0.01 % (both run f32
/// weights; only summation order differs).
struct RollingPerplexityGoldenTests {
    struct Golden: Decodable {
        struct Document: Decodable { var tokens: Int; var loglikelihood: Double; var words: Int; var bytes: Int }
        var ctx: Int, documents: Int, prefix_token: Int, tokens: Int, words: Int, bytes: Int
        var token_perplexity: Double, word_perplexity: Double, byte_perplexity: Double, bits_per_byte: Double
        var per_document: [Document]
    }

    @Test func wikiText2LinesMatchLMEval() async throws {
        let url = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let text = try TestEnvironment.sharedData("wikitext2/wiki.test.raw")
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: try #require(Bundle.module.url(forResource: "Golden/smollm2-wikitext2-rolling-128", withExtension: "json"))))
        let model = try LlamaModel(gguf: try GGUFFile(contentsOf: url))
        let tokenizer = try CausalTokenizer(loading: url)
        #expect(tokenizer.bos == golden.prefix_token)
        let documents = Array(try DocumentSplit.lines.documents(of: String(decoding: try Data(contentsOf: text), as: UTF8.self), path: text.path).prefix(golden.documents))
        for (document, expected) in zip(documents, golden.per_document) {
            #expect(tokenizer.encode(document, addSpecial: false, parseSpecial: false).count == expected.tokens)
            #expect(PythonText.whitespaceSplitCount(document) == expected.words)
            #expect(document.utf8.count == expected.bytes)
        }
        let result = try await RollingPerplexity.run(model: InProcessBackend(model: model, tokenizer: tokenizer, name: "smollm2"), documents: documents,
                                                     encoded: documents.map { tokenizer.encode($0, addSpecial: false, parseSpecial: false) },
                                                     prefix: golden.prefix_token, context: golden.ctx, stride: golden.ctx)
        #expect(result.complete && result.documents == golden.documents)
        #expect(result.accumulator.count == golden.tokens && result.words == golden.words && result.bytes == golden.bytes)
        func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 / b - 1) < 1e-4 } ?? false }
        print("rolling: word PPL \(result.wordPerplexity ?? .nan) vs lm-eval \(golden.word_perplexity); bits/byte \(result.bitsPerByte ?? .nan) vs \(golden.bits_per_byte)")
        #expect(close(result.accumulator.perplexity, golden.token_perplexity))
        #expect(close(result.wordPerplexity, golden.word_perplexity))
        #expect(close(result.bytePerplexity, golden.byte_perplexity))
        #expect(close(result.bitsPerByte, golden.bits_per_byte))
    }
}
