import AssayMetrics
import Foundation
import Testing

/// llama-perplexity --kl-divergence's statistics on hand-made per-token values.
struct DriftAccumulatorTests {
    // 12 tokens (llama.cpp gives uncertainties only above 10).
    let nll: [Double] = [2.0, 1.5, 3.0, 0.5, 2.5, 1.0, 4.0, 2.0, 1.5, 3.5, 0.8, 2.2]
    let nllBase: [Double] = [1.8, 1.6, 2.5, 0.5, 2.0, 1.1, 3.0, 2.1, 1.2, 3.0, 0.9, 2.0]
    let kld: [Double] = [0.10, 0.02, 0.40, 0.0, 0.25, 0.05, 0.90, 0.03, 0.12, 0.60, 0.01, 0.08]
    let same: [Bool] = [true, true, false, true, true, true, false, true, true, false, true, true]

    func filled() -> DriftAccumulator {
        var a = DriftAccumulator()
        for i in nll.indices { a.add(nll: nll[i], nllBase: nllBase[i], kld: kld[i], sameTop: same[i]) }
        return a
    }

    /// A chunk travels to `assay merge` as its sums and per-token values and comes back the same;
    /// anything that does not describe one accumulator is refused.
    @Test func sumsGiveBackTheSameAccumulator() throws {
        var a = filled()
        a.add(nll: 1, nllBase: 1.2, kld: 0.3, sameTop: false, outside: 0.25)
        let back = try #require(DriftAccumulator(sums: a.sums, kld: a.kldValues, deltaP: a.pDiffValues))
        #expect(back == a && back.summary == a.summary)
        var merged = DriftAccumulator()
        merged.merge(back)
        #expect(merged == a)
        #expect(DriftAccumulator(sums: a.sums, kld: Array(a.kldValues.dropLast()), deltaP: a.pDiffValues) == nil)
        for (key, value) in [("count", 12.5), ("same_top", 99), ("outside_count", -1), ("count", 1e300)] {
            #expect(DriftAccumulator(sums: a.sums.merging([key: value]) { $1 }, kld: a.kldValues, deltaP: a.pDiffValues) == nil, "\(key) \(value)")
        }
        #expect(DriftAccumulator(sums: a.sums.filter { $0.key != "kld2" }, kld: a.kldValues, deltaP: a.pDiffValues) == nil)
        // Sums a hand-edited shard file changed: squares below zero, a KLD sum its values do not add up to.
        for (key, value) in [("nll2", -1e9), ("kld", 1e308), ("kld", a.sums["kld"]! + 1e-3), ("dp", 5)] {
            #expect(DriftAccumulator(sums: a.sums.merging([key: value]) { $1 }, kld: a.kldValues, deltaP: a.pDiffValues) == nil, "\(key) \(value)")
        }
        #expect(DriftAccumulator(sums: a.sums, kld: [-5] + a.kldValues.dropFirst(), deltaP: a.pDiffValues) == nil)
        // A broken model's NaN passes through (the run then names the model).
        #expect(DriftAccumulator(sums: a.sums.merging(["kld": .nan]) { $1 }, kld: a.kldValues, deltaP: a.pDiffValues) != nil)
    }

    @Test func perplexityStatisticsFollowLlamaCpp() throws {
        let s = try #require(filled().summary)
        let n = 12.0
        let m = nll.reduce(0, +) / n, mb = nllBase.reduce(0, +) / n
        // mean_and_uncertainty: sqrt((Σx²/n − mean²)/(n − 1))
        let u = ((nll.map { $0 * $0 }.reduce(0, +) / n - m * m) / (n - 1)).squareRoot()
        let ub = ((nllBase.map { $0 * $0 }.reduce(0, +) / n - mb * mb) / (n - 1)).squareRoot()
        let cov = (zip(nll, nllBase).map { $0 * $1 }.reduce(0, +) / n - m * mb) / (n - 1)
        #expect(abs(s.pplCandidate - exp(m)) < 1e-12 && abs(s.pplCandidateStderr - exp(m) * u) < 1e-12)
        #expect(abs(s.pplBase - exp(mb)) < 1e-12 && abs(s.pplBaseStderr - exp(mb) * ub) < 1e-12)
        #expect(abs(s.corLnPPL! - cov / (u * ub)) < 1e-12)
        #expect(abs(s.lnPPLRatio - (m - mb)) < 1e-12 && abs(s.lnPPLRatioStderr - (u * u + ub * ub - 2 * cov).squareRoot()) < 1e-12)
        #expect(abs(s.pplRatio - exp(m - mb)) < 1e-12)
        let pplCov = exp(m) * exp(mb) * cov
        #expect(abs(s.pplDifferenceStderr - (pow(exp(m) * u, 2) + pow(exp(mb) * ub, 2) - 2 * pplCov).squareRoot()) < 1e-12)
        // By hand: mean NLL 2.041667, base 1.808333 → ln ratio 0.233333.
        #expect(abs(s.lnPPLRatio - 0.2333333333) < 1e-9)
    }

    @Test func kldDeltaPAndTopTokenStatistics() throws {
        let s = try #require(filled().summary)
        #expect(abs(s.meanKLD - 2.56 / 12) < 1e-12)
        #expect(abs(s.kldMax - 0.9) < 1e-7 && s.kldMin == 0)   // kept as Float per token
        // Sorted KLD: 0, .01, .02, .03, .05, .08, .10, .12, .25, .40, .60, .90 → median (.08 + .10)/2.
        #expect(abs(s.kldMedian - 0.09) < 1e-7)
        // 99 %: position 0.99·11 = 10.89 → .60 + .89·(.90 − .60); 10 %: 1.1 → .01 + .1·(.02 − .01).
        #expect(abs(s.kldPercentiles[0.99]! - (0.60 + 0.89 * 0.30)) < 1e-6)
        #expect(abs(s.kldPercentiles[0.1]! - 0.011) < 1e-6)
        let dp = zip(nll, nllBase).map { exp(-$0) - exp(-$1) }
        #expect(abs(s.meanDeltaP - dp.reduce(0, +) / 12) < 1e-12)
        let mse = dp.map { $0 * $0 }.reduce(0, +) / 12
        #expect(abs(s.rmsDeltaP - mse.squareRoot()) < 1e-12)
        #expect(abs(s.sameTop - 9.0 / 12) < 1e-12 && abs(s.sameTopStderr - (0.75 * 0.25 / 11).squareRoot()) < 1e-12)
        #expect(s.deltaPMax == Double(Float(dp.max()!)) && s.tokens == 12)
    }

    @Test func mergingEqualsAddingInOrderAndFewTokensHaveNoUncertainty() throws {
        var a = DriftAccumulator(), b = DriftAccumulator()
        for i in 0..<6 { a.add(nll: nll[i], nllBase: nllBase[i], kld: kld[i], sameTop: same[i]) }
        for i in 6..<12 { b.add(nll: nll[i], nllBase: nllBase[i], kld: kld[i], sameTop: same[i]) }
        a.merge(b)
        let merged = try #require(a.summary), whole = try #require(filled().summary)
        #expect(a.kldValues == filled().kldValues && a.count == 12)
        #expect(abs(merged.lnPPLRatio - whole.lnPPLRatio) < 1e-12 && abs(merged.meanKLDStderr - whole.meanKLDStderr) < 1e-12)
        let small = try #require(b.summary)
        #expect(small.meanKLDStderr == 0 && small.pplCandidateStderr == 0)   // ≤ 10 tokens, as llama.cpp
        #expect(DriftAccumulator().summary == nil)
    }

    /// The top-k KLD is a lower bound of the full one on random distributions, equal to it when
    /// the lists name every token, and says how much of the reference it could not see.
    @Test func topKDivergenceBoundsTheFullDivergence() {
        var generator = SystemRandomNumberGenerator()
        for trial in 0..<200 {
            let n = 50
            func distribution() -> [Double] {
                let logits = (0..<n).map { _ in Double.random(in: -4...4, using: &generator) }
                let z = log(logits.map(exp).reduce(0, +))
                return logits.map { $0 - z }
            }
            let p = distribution(), q = trial % 3 == 0 ? p : distribution()
            let full = zip(p, q).reduce(0) { $0 + exp($1.0) * ($1.0 - $1.1) }
            func top(_ row: [Double], _ k: Int) -> [(token: Int, logProbability: Double)] {
                row.enumerated().sorted { $0.element > $1.element }.prefix(k).map { (token: $0.offset, logProbability: $0.element) }
            }
            let k = [1, 5, 20][trial % 3]
            let (bound, outside) = DriftAccumulator.topKDivergence(base: top(p, k), candidate: top(q, k))
            #expect(bound <= full + 1e-12 && bound >= 0, "trial \(trial): \(bound) > \(full)")
            #expect(outside > 0 && outside <= 1)  // 1 when the two lists share no token
            let (whole, none) = DriftAccumulator.topKDivergence(base: top(p, n), candidate: top(q, n))
            #expect(abs(whole - full) < 1e-9 && none < 1e-12, "trial \(trial)")
        }
        var a = DriftAccumulator()
        a.add(nll: 1, nllBase: 1, kld: 0.1, sameTop: true, outside: 0.2)
        a.add(nll: 1, nllBase: 1, kld: 0.1, sameTop: true, outside: 0.4)
        #expect(abs((a.summary?.outsideTopK ?? 0) - 0.3) < 1e-12 && filled().summary?.outsideTopK == nil)
    }

    /// Rounded server values: a candidate certain of one token (log-probability exactly 0, its
    /// rest read as 0) gives a bounded value, not the 353 nats ln(1/10⁻³⁰⁸) would; named mass a hair
    /// above 1, repeats, tokens without an id and empty lists are handled.
    @Test func topKDivergenceSurvivesRoundedServerValues() {
        // Reference: 0.5 on token 1, the rest elsewhere; candidate: token 1 certain (true rest 1e-8).
        let (certain, outside) = DriftAccumulator.topKDivergence(base: [(1, log(0.5)), (2, log(0.3))], candidate: [(1, 0.0), (2, -18.4)])
        // True KLD over {1, 2, rest} with q = (1 − 1e-8, 1e-8, ~0): 0.5 ln 0.5 + 0.3 ln(0.3/1e-8) + 0.2 ln(0.2/q_rest) ≥ 0.5 ln 0.5 + 5.17 + …
        #expect(certain.isFinite && certain > 5 && certain < 10, "\(certain)")
        #expect(abs(outside - 0.2) < 1e-12)
        // Named mass above 1 from rounding: no negative rest, no NaN.
        let (above, rest) = DriftAccumulator.topKDivergence(base: [(1, 0.0), (2, -17)], candidate: [(1, 0.0), (2, -16)])
        #expect(above.isFinite && above >= 0 && rest == 0)
        // Repeats count once; a token without an id (−1) is in the rest on both sides.
        let (repeated, _) = DriftAccumulator.topKDivergence(base: [(1, log(0.6)), (1, log(0.6)), (-1, log(0.3))],
                                                            candidate: [(1, log(0.6)), (-1, log(0.3))])
        #expect(abs(repeated) < 1e-5)
        let (empty, all) = DriftAccumulator.topKDivergence(base: [], candidate: [])
        #expect(abs(empty) < 1e-12 && all == 1)
    }
}
