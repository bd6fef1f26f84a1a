import Foundation
import Testing
import AssayMetrics

/// Hand-written segments (ours) against sacrebleu 2.6.0's numbers, from
/// scripts/goldens/sacrebleu_goldens.py.
struct SacrebleuEdgeCaseTests {
    /// A pipe, as `assay bleu <(cat hyp.txt)` passes one, is read to its end (Foundation had
    /// refused it: "You don't have permission"); a device is refused, not read forever (found by
    /// probing, 2026-12-07).
    @Test func pipesAreReadAndDevicesRefused() throws {
        let pipe = Pipe()
        try pipe.fileHandleForWriting.write(contentsOf: Data("the cat  \nsat\n".utf8))
        try pipe.fileHandleForWriting.close()
        #expect(try UTF8Lines.read(URL(fileURLWithPath: "/dev/fd/\(pipe.fileHandleForReading.fileDescriptor)")) == ["the cat", "sat"])
        #expect(throws: MetricsError.unreadableFile(path: "/dev/zero", reason: "it is a device, not a file")) {
            try UTF8Lines.read(URL(fileURLWithPath: "/dev/zero"))
        }
    }

    struct Case: Decodable {
        var hypothesis: String
        var references: [String]
        var bleu: [String: GoldenBLEU]
        var sentence_bleu: [String: GoldenBLEU]
        var chrf: [String: Double]
    }

    struct File: Decodable { var sacrebleu: String; var cases: [Case] }

    static let cases: [Case] = (try? GoldenData.load("sacrebleu-edge-cases.json", as: File.self).cases) ?? []

    @Test func goldenFileLoads() {
        #expect(Self.cases.count >= 15)
    }

    @Test(arguments: cases.indices)
    func corpusBLEUEveryTokenizer(_ index: Int) throws {
        let c = Self.cases[index]
        for (key, golden) in c.bleu {
            let lowercase = key.hasSuffix("-lc")
            let tokenizer = lowercase ? String(key.dropLast(3)) : key
            let bleu = try BLEU(.init(tokenizer: tokenizer, lowercase: lowercase))
            let stats = bleu.statistics(hypothesis: c.hypothesis, references: c.references)
            expectEqual(view(bleu.score(stats)), golden, "case \(index) \(key)")
        }
    }

    @Test(arguments: cases.indices)
    func sentenceBLEUEverySmoothing(_ index: Int) throws {
        let c = Self.cases[index]
        for (smoothing, golden) in c.sentence_bleu {
            let bleu = try BLEU(.init(smoothing: .init(name: smoothing), effectiveOrder: true))
            let stats = bleu.statistics(hypothesis: c.hypothesis, references: c.references)
            expectEqual(view(bleu.score(stats)), golden, "case \(index) \(smoothing)")
        }
    }

    @Test(arguments: cases.indices)
    func sentenceChrF(_ index: Int) throws {
        let c = Self.cases[index]
        for (key, golden) in c.chrf {
            let wordOrder = key.hasPrefix("nw2") ? 2 : 0
            let chrf = try ChrF(.init(wordOrder: wordOrder, lowercase: key.hasSuffix("-lc")))
            let score = chrf.score(chrf.statistics(hypothesis: c.hypothesis, references: c.references))
            #expect(abs(score - golden) <= 1e-9, "case \(index) \(key): \(score) vs \(golden)")
        }
    }

    /// Settings whose arithmetic would overflow or give infinity are refused with what and why:
    /// beta above 1,000 (beta² had trapped past 3·10⁹) and smoothing values outside (0, 10⁶].
    @Test func absurdSettingsAreRefused() throws {
        #expect(throws: MetricsError.invalidOption(name: "beta", value: "3037000500", reason: "must be 1 to 1,000")) {
            try ChrF(.init(beta: 3_037_000_500))
        }
        #expect(try ChrF(.init(beta: 1000)).name == "chrF1000")
        for value in [Double.infinity, 1e308, 1_000_001, 0, -1, .nan] {
            #expect(throws: MetricsError.self, "\(value)") { try BLEU.Smoothing(name: "add-k", value: value) }
        }
        #expect(try BLEU.Smoothing(name: "floor", value: 1_000_000) == .floor(1_000_000))
    }
}

func view(_ s: BLEUScore) -> BLEUScoreView {
    BLEUScoreView(score: s.score, counts: s.counts, totals: s.totals, precisions: s.precisions,
                  bp: s.brevityPenalty, sysLen: s.systemLength, refLen: s.referenceLength)
}
