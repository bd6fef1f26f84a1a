import AssayMetrics
import AssayModels
import AssayProcedures
import AssayTestSupport
import Foundation
import Testing

/// BERTScore on all-MiniLM-L6-v2 against bert_score 0.3.13 (scripts/goldens/bertscore_goldens.py):
/// 600 newstest2021 zh-en pairs, layers 4 and 6, idf on and off, one and two references.
struct BERTScorerTests {
    struct Golden: Decodable {
        struct Pairs: Decodable { var candidates: String; var references: [String]; var start: Int; var count: Int }
        struct Run: Decodable {
            var layer: Int; var idf: Bool; var references: Int
            var precision: [Double]; var recall: [Double]; var f1: [Double]
            var padding_affected: [Int]
        }
        var pairs: [Pairs]; var runs: [Run]
    }

    static func lines(_ url: URL, _ start: Int, _ count: Int) throws -> [String] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return Array(text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)[start..<(start + count)])
    }

    @Test func matchesBertScoreOnWMTPairs() throws {
        let data = try TestEnvironment.sharedData("wmt-mqm"), directory = try TestEnvironment.model("all-minilm-l6-v2")
        let root = data.deletingLastPathComponent()
        let url = try #require(Bundle.module.url(forResource: "Golden/bertscore-minilm", withExtension: "json"))
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
        var candidates: [String] = [], referenceSets: [[String]] = [[], []]
        for p in golden.pairs {
            candidates += try Self.lines(root.appendingPathComponent(p.candidates), p.start, p.count)
            for (k, r) in p.references.enumerated() { referenceSets[k] += try Self.lines(root.appendingPathComponent(r), p.start, p.count) }
        }
        let scorer = try BERTScorer(model: try EncoderModel(directory: directory))
        #expect(scorer.defaultLayer == 6 && scorer.maxLength == 512)
        for run in golden.runs {
            let references = candidates.indices.map { i in (0..<run.references).map { referenceSets[$0][i] } }
            let result = try scorer.score(candidates: candidates, references: references, options: .init(layer: run.layer, idf: run.idf))
            let compared = Set(candidates.indices).subtracting(run.padding_affected)
            #expect(compared.count >= 500)
            var worst = 0.0
            for i in compared {
                let s = result.scores[i]
                worst = max(worst, abs(s.precision - run.precision[i]), abs(s.recall - run.recall[i]), abs(s.f1 - run.f1[i]))
            }
            print("BERTScore L\(run.layer) idf \(run.idf) refs \(run.references): max |Δ| \(worst) over \(compared.count) pairs")
            #expect(worst < 1e-4)
            #expect(result.signature.hasPrefix("all-minilm-l6-v2_L\(run.layer)_\(run.idf ? "idf" : "no-idf")_version=assay-"))
        }
    }

    @Test func truncatesEmptyAndRescales() throws {
        let directory = try TestEnvironment.model("all-minilm-l6-v2")
        let scorer = try BERTScorer(model: try EncoderModel(directory: directory))
        // bert_score strips the text; an empty one is [CLS] [SEP].
        #expect(scorer.tokens("  \t ") == [101, 102])
        #expect(scorer.tokens("  Hello there.\n") == scorer.tokens("Hello there."))
        let long = String(repeating: "word ", count: 700)
        let tokens = scorer.tokens(long)
        #expect(tokens.count == 512 && tokens.first == 101 && tokens.last == 102)

        let result = try scorer.score(candidates: ["", "The cat sat on the mat.", long],
                                      references: [["A cat was sitting on the mat."], ["A cat was sitting on the mat."], [long]])
        #expect(result.scores[0] == .init(precision: 0, recall: 0, f1: 0))
        #expect(result.scores[1].f1 > 0.5 && result.scores[1].f1 < 1)
        #expect(abs(result.scores[2].f1 - 1) < 1e-5)

        let baseline = BERTScoreBaseline(layers: [6: .init(precision: 0.2, recall: 0.3, f1: 0.25)])
        let rescaled = try scorer.score(candidates: ["The cat sat on the mat."], references: [["A cat was sitting on the mat."]],
                                        options: .init(baseline: baseline, baselineIsCustom: true))
        // The pair is embedded in a different batch here: OpenBLAS may pick other kernels for another
        // matrix height (seen without AVX-512: 1e-8 apart), so the two runs agree to 1e-6, not bit for bit.
        #expect(abs(rescaled.scores[0].precision - (result.scores[1].precision - 0.2) / 0.8) < 1e-6)
        #expect(rescaled.signature.hasSuffix("_custom-rescaled"))
        #expect(throws: MetricsError.self) { try scorer.score(candidates: ["a"], references: [["b"]], options: .init(layer: 5, baseline: baseline)) }
        #expect(throws: MetricsError.self) { try scorer.score(candidates: ["a"], references: [["b"]], options: .init(layer: 7)) }
        #expect(throws: MetricsError.self) { try scorer.score(candidates: ["a", "b"], references: [["b"]]) }
    }

    @Test func aTokenizerLargerThanTheEmbeddingTableIsRefused() throws {
        let directory = try TestEnvironment.model("all-minilm-l6-v2")
        let tiny = try BertEncoder(contentsOf: TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-roberta"))
        #expect(throws: ModelError.self) {
            try BERTScorer(encoder: tiny, tokenizer: try ModelTokenizer.load(directory), name: "mismatch")
        }
    }

    @Test func baselineOfUnrelatedPairsIsBelowRelatedScores() throws {
        let directory = try TestEnvironment.model("all-minilm-l6-v2")
        let scorer = try BERTScorer(model: try EncoderModel(directory: directory))
        let text = try String(contentsOf: TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt"), encoding: .utf8)
        let sentences = text.split(separator: "\n").map(String.init)
        let a = try scorer.baseline(sentences: sentences, pairs: 50, seed: 7)
        let b = try scorer.baseline(sentences: sentences, pairs: 50, seed: 7)
        // The same pairs, so the same baseline — to OpenBLAS's rounding: other tests running in
        // this process change its thread count, and sgemm's edge kernels then differ in the last
        // bits (seen: a CI run where two equal calls differed).
        #expect(a.layers.keys.sorted() == Array(0...6) && b.layers.keys.sorted() == Array(0...6))
        for layer in 0...6 {
            let x = try a.baseline(layer: layer), y = try b.baseline(layer: layer)
            #expect(abs(x.precision - y.precision) < 1e-6 && abs(x.recall - y.recall) < 1e-6 && abs(x.f1 - y.f1) < 1e-6, "layer \(layer)")
        }
        let six = try a.baseline(layer: 6)
        #expect(six.f1 > 0.3 && six.f1 < 0.9)
        #expect(throws: MetricsError.self) { try scorer.baseline(sentences: ["same", "same", ""], pairs: 5, seed: 1) }
    }
}

/// The RoBERTa path end to end against bert_score 0.3.13 (scripts/goldens/tiny_roberta_bertscore_goldens.py):
/// the tiny RoBERTa fixture with its byte-level BPE tokenizer on Fixtures/mt's 20 pairs.
struct RobertaBERTScoreTests {
    struct Golden: Decodable {
        struct Run: Decodable { var layer: Int; var idf: Bool; var precision: [Double]; var recall: [Double]; var f1: [Double] }
        var tokens: [[Int]]; var runs: [Run]
    }

    @Test func tokensAndScoresEqualBertScore() throws {
        let url = try #require(Bundle.module.url(forResource: "Golden/tiny-roberta-bertscore", withExtension: "json"))
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
        let mt = TestEnvironment.root.appendingPathComponent("Fixtures/mt")
        func lines(_ name: String) throws -> [String] {
            try String(contentsOf: mt.appendingPathComponent(name), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                .dropLast().map(String.init)
        }
        let candidates = try lines("system-a.txt"), references = try lines("reference.txt")
        let scorer = try BERTScorer(model: try EncoderModel(directory: TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-roberta")))
        #expect(scorer.maxLength == 62 && scorer.special == [0, 2])
        #expect((candidates + references).map(scorer.tokens) == golden.tokens)
        for run in golden.runs {
            let result = try scorer.score(candidates: candidates, references: references.map { [$0] },
                                          options: .init(layer: run.layer, idf: run.idf))
            let worst = result.scores.indices.map { i in
                max(abs(result.scores[i].precision - run.precision[i]), abs(result.scores[i].recall - run.recall[i]),
                    abs(result.scores[i].f1 - run.f1[i]))
            }.max()!
            #expect(worst < 1e-5, "layer \(run.layer) idf \(run.idf): \(worst)")
        }
    }
}

extension BERTScorerTests {
    /// Weights holding NaN (planted in a copy of tiny-roberta's embedding LayerNorm) had scored
    /// `P: nan`, `F1: 0` with exit 0; the embedding is refused naming the layer and the text.
    @Test func nonFiniteWeightsAreRefusedNotScored() throws {
        let source = TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-roberta")
        let directory = try TestEnvironment.temporaryDirectory().appendingPathComponent("nan-roberta")
        try FileManager.default.copyItem(at: source, to: directory)
        let weights = directory.appendingPathComponent("model.safetensors")
        var bytes = try Data(contentsOf: weights)
        let header = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        // roberta.embeddings.LayerNorm.weight: bytes 128..<256 of the data, 32 floats; four NaNs.
        for k in 0..<4 { bytes.replaceSubrange((8 + header + 128 + 4 * k)..<(8 + header + 132 + 4 * k), with: [0x00, 0x00, 0xC0, 0x7F]) }
        try bytes.write(to: weights)
        let scorer = try BERTScorer(model: try EncoderModel(directory: directory))
        do {
            _ = try scorer.score(candidates: ["the cat sat"], references: [["a cat sat"]])
            Issue.record("NaN weights were scored")
        } catch let error as ProcedureError {
            #expect(error.errorDescription?.contains("of the encoder is not finite (NaN or infinity) for the text") == true, "\(error)")
        }
    }
}
