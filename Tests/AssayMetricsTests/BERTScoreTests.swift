import AssayCore
import AssayMetrics
import Foundation
import Testing

/// BERTScore's matching, weighting and rescaling on hand-computed cases.
struct BERTScoreTests {
    /// Unit vectors at the given angles (degrees), one token each; tokens 1 and 2 are [CLS]/[SEP].
    func embedding(_ tokens: [Int], _ degrees: [Double]) -> BERTScore.Embedding {
        let states = degrees.flatMap { [Float(cos($0 * .pi / 180)) * 3, Float(sin($0 * .pi / 180)) * 3] }
        return BERTScore.Embedding(tokens: tokens, states: states, dimension: 2)
    }

    @Test func greedyMatchingWithUniformWeights() {
        // candidate words at 0° and 90°, reference words at 0°, 60°, 180°; [CLS]/[SEP] at 150°.
        let c = embedding([1, 10, 11, 2], [150, 0, 90, 150]), r = embedding([1, 10, 12, 13, 2], [150, 0, 60, 180, 150])
        let s = BERTScore.score(candidate: c, reference: r, weights: .uniform(special: [1, 2]))
        // P: word 0° → 1; word 90° → max(cos 60 (special), cos 90, cos 30, cos 90) = cos 30.
        let p = (1 + cos(Double.pi / 6)) / 2
        // R: 0° → 1; 60° → cos 30 (the 90° word); 180° → cos 30 from the 150° special tokens,
        // which stay in the matrix as in bert_score.
        let r3 = (1 + 2 * cos(Double.pi / 6)) / 3
        #expect(abs(s.precision - p) < 1e-6 && abs(s.recall - r3) < 1e-6)
        #expect(abs(s.f1 - 2 * p * r3 / (p + r3)) < 1e-6)
        // Leaving the special tokens out of the matrix: 180° now takes cos 90 = 0 from the 90° word.
        let x = BERTScore.score(candidate: c, reference: r, weights: .uniform(special: [1, 2]), excludedFromMatching: [1, 2])
        #expect(abs(x.recall - (1 + cos(Double.pi / 6) + 0) / 3) < 1e-6 && abs(x.precision - p) < 1e-6)
    }

    @Test func idfWeightsFollowBertScore() {
        // 3 references: token 10 in all, 11 in two (counted once per reference), 12 in one.
        let w = BERTScore.Weights.idf(references: [[1, 10, 11, 11, 2], [1, 10, 11, 2], [1, 10, 12, 2]])
        #expect(w.weight(1) == 0 && w.weight(10) == 0)
        #expect(abs(w.weight(11) - log(4.0 / 3)) < 1e-12 && abs(w.weight(12) - log(2.0)) < 1e-12)
        #expect(abs(w.weight(99) - log(4.0)) < 1e-12)
        // Weighted precision: words with idf ln(4/3) and ln 4 matching with cosines 1 and cos 30.
        let c = embedding([1, 11, 99, 2], [0, 0, 90, 0]), r = embedding([1, 11, 2], [-60, 0, -60])
        let s = BERTScore.score(candidate: c, reference: r, weights: w)
        let a = log(4.0 / 3), b = log(4.0)
        #expect(abs(s.precision - (a * 1 + b * cos(Double.pi / 2)) / (a + b)) < 1e-6)
        #expect(abs(s.recall - 1) < 1e-6)
    }

    @Test func emptySentencesAndMultipleReferences() {
        let empty = embedding([1, 2], [0, 0]), c = embedding([1, 10, 2], [0, 0, 0])
        #expect(BERTScore.score(candidate: empty, reference: c, weights: .uniform(special: [1, 2])) == .init(precision: 0, recall: 0, f1: 0))
        #expect(BERTScore.score(candidate: c, reference: empty, weights: .uniform(special: [1, 2])) == .init(precision: 0, recall: 0, f1: 0))
        let best = BERTScore.Score.best([.init(precision: 0.9, recall: 0.1, f1: 0.18), .init(precision: 0.5, recall: 0.6, f1: 0.545)])
        #expect(best == .init(precision: 0.9, recall: 0.6, f1: 0.545))
        let rescaled = BERTScore.Score(precision: 0.9, recall: 0.8, f1: 0.85).rescaled(by: .init(precision: 0.8, recall: 0.8, f1: 0.6))
        #expect(abs(rescaled.precision - 0.5) < 1e-12 && rescaled.recall == 0 && abs(rescaled.f1 - 0.625) < 1e-12)
    }

    @Test func baselineFilesAreReadAndRejectedWithLines() throws {
        let b = try BERTScoreBaseline(csv: "LAYER,P,R,F\n0,0.37,0.37,0.36\n1,0.67,0.67,0.67\n", path: "b.tsv")
        #expect(try b.baseline(layer: 1) == .init(precision: 0.67, recall: 0.67, f1: 0.67))
        #expect(throws: MetricsError.self) { try b.baseline(layer: 6) }
        #expect(try BERTScoreBaseline(csv: b.csv, path: "again") .layers == b.layers)
        #expect(throws: MetricsError.malformedLine(path: "b.tsv", line: 1, message: "the header is not LAYER,P,R,F",
                                                   fix: "a baseline file starts with the line LAYER,P,R,F and has one row per layer, such as 6,0.83,0.83,0.83")) {
            try BERTScoreBaseline(csv: "layer,p,r,f\n", path: "b.tsv")
        }
        do {
            _ = try BERTScoreBaseline(csv: "LAYER,P,R,F\n0,0.3,0.3,0.3\n1,0.3,x,0.3\n", path: "b.tsv")
            Issue.record("a bad number must fail")
        } catch let MetricsError.malformedLine(_, line, _, _) {
            #expect(line == 3)
        }
    }

    @Test func signatureNamesEverySetting() {
        #expect(BERTScore.signature(model: "all-MiniLM-L6-v2", layer: 6, idf: false, rescaled: false, excludeSpecial: false)
            == "all-MiniLM-L6-v2_L6_no-idf_version=assay-\(AssayVersion.current)")
        #expect(BERTScore.signature(model: "m", layer: 4, idf: true, rescaled: true, customBaseline: true, excludeSpecial: true)
            .hasSuffix("_custom-rescaled_exclude-special"))
    }
}
