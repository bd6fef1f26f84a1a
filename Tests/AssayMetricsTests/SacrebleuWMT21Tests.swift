import Foundation
import Testing
import AssayMetrics

/// Every newstest2021 zh-en system against ref-A and against ref-A + ref-B, every tokenizer,
/// cased and lowercased, compared with sacrebleu 2.6.0 (goldens from
/// scripts/goldens/sacrebleu_goldens.py; the text comes from $ASSAY_DATA, never from the repo).
struct SacrebleuWMT21Tests {
    struct System: Decodable {
        var bleu: [String: GoldenBLEU]
        var chrf: [String: Double]
        var sentence: [String: [Double]]
    }

    struct File: Decodable { var sacrebleu: String; var systems: [String: System] }

    static let golden: File? = try? GoldenData.load("sacrebleu-wmt21.json", as: File.self)
    static let systems: [String] = golden?.systems.keys.sorted() ?? []

    struct Corpus {
        var hypotheses: [String]
        var refA: [String]
        var refB: [String]
    }

    static func corpus(_ system: String) throws -> Corpus {
        let base = try GoldenData.sharedData("wmt-mqm/newstest2021-zhen")
        return Corpus(
            hypotheses: try UTF8Lines.read(base.appendingPathComponent("hyp/newstest2021.zh-en.hyp.\(system).en")),
            refA: try UTF8Lines.read(base.appendingPathComponent("newstest2021.zh-en.ref.A.en")),
            refB: try UTF8Lines.read(base.appendingPathComponent("newstest2021.zh-en.ref.B.en")))
    }

    @Test func everySystemHasGoldens() {
        #expect(Self.systems.count == 8)
    }

    @Test(arguments: systems)
    func corpusBLEUAndChrF(_ system: String) throws {
        let corpus = try Self.corpus(system), golden = try #require(Self.golden?.systems[system])
        for (refsName, refs) in [("A", corpus.refA.map { [$0] }), ("AB", zip(corpus.refA, corpus.refB).map { [$0, $1] })] {
            for tokenizer in MTTokenizers.names {
                for lowercase in [false, true] {
                    let key = "\(refsName)-\(tokenizer)\(lowercase ? "-lc" : "")"
                    let bleu = try BLEU(.init(tokenizer: tokenizer, lowercase: lowercase))
                    let stats = BLEUStatistics.sum(bleu.statistics(hypotheses: corpus.hypotheses, references: refs), order: 4)
                    let expected = try #require(golden.bleu[key], "golden \(key)")
                    expectEqual(view(bleu.score(stats)), expected, "\(system) \(key)")
                }
            }
            for wordOrder in [0, 2] {
                for lowercase in [false, true] {
                    let key = "\(refsName)-nw\(wordOrder)\(lowercase ? "-lc" : "")"
                    let chrf = try ChrF(.init(wordOrder: wordOrder, lowercase: lowercase))
                    let score = chrf.score(chrf.sum(chrf.statistics(hypotheses: corpus.hypotheses, references: refs)))
                    let expected = try #require(golden.chrf[key])
                    #expect(abs(score - expected) <= 1e-9, "\(system) chrF \(key): \(score) vs \(expected)")
                }
            }
        }
    }

    @Test(arguments: systems)
    func sentenceScores(_ system: String) throws {
        let corpus = try Self.corpus(system), golden = try #require(Self.golden?.systems[system])
        for smoothing in BLEU.Smoothing.names {
            let bleu = try BLEU(.init(smoothing: .init(name: smoothing), effectiveOrder: true))
            let expected = try #require(golden.sentence["bleu-\(smoothing)"])
            for (i, value) in expected.enumerated() {
                let score = bleu.score(bleu.statistics(hypothesis: corpus.hypotheses[i], references: [corpus.refA[i]])).score
                #expect(abs(score - value) <= 1e-9, "\(system) line \(i + 1) \(smoothing): \(score) vs \(value)")
            }
        }
        let chrf = try ChrF(.plusPlus)
        let expected = try #require(golden.sentence["chrf-nw2"])
        for (i, value) in expected.enumerated() {
            let score = chrf.score(chrf.statistics(hypothesis: corpus.hypotheses[i], references: [corpus.refA[i]]))
            #expect(abs(score - value) <= 1e-9, "\(system) line \(i + 1) chrF++: \(score) vs \(value)")
        }
    }
}
